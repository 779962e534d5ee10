package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/energylabel/energylabel/client"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/label"
)

var cardCommand = &command{
	name:    "card",
	usage:   "card -model M [-o FILE|-] FILE",
	summary: "add or update the energy section of a model card (a Hugging Face README.md)",
	help: `
  -model M       the model, owner/name, as it is rated
  -o FILE        write the card to FILE instead of FILE itself; -o - prints it
  -show S        what the badges show: grade (A-G, default) or stars
  -heading TEXT  the section's heading, "Energy use" by default; "" for none
  -http URL      the server's public HTTP address for the badges and links
                 (env ENERGYLABEL_HTTP); by default the one the server reports
  The section sits between the lines ` + cardStart + ` and
  ` + cardEnd + `: it is replaced there, or added at the end of the card.
  It holds a badge per task, a table of the model's ratings and links to their
  labels. The YAML front matter and every byte outside the markers stay as they
  are, and a second run with nothing new changes nothing. Markers inside the
  front matter or a code block are not markers. The file is replaced
  atomically, keeping its permissions.
`,
	run: runCard,
}

func runCard(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("card")
	model := fs.String("model", "", "")
	out := fs.String("o", "", "")
	show := fs.String("show", "", "")
	heading := fs.String("heading", "Energy use", "")
	httpFlag := fs.String("http", "", "")
	pos, err := a.parse("card", fs, args)
	if err != nil {
		return err
	}
	var missing []string
	if *model == "" {
		missing = append(missing, "-model M")
	}
	if len(pos) == 0 {
		missing = append(missing, "FILE")
	}
	switch {
	case len(missing) > 0:
		return missingFlags("card", missing...)
	case len(pos) > 1:
		return usageErrorf("card", "unexpected argument %q", pos[1])
	case *show != "" && *show != "grade" && *show != "stars":
		return usageErrorf("card", "-show must be grade or stars, got %q", *show)
	}
	file := pos[0]
	if err := rating.ValidateModel(*model); err != nil {
		return fmt.Errorf("card: %w", err)
	}
	override, err := a.httpOverride(*httpFlag)
	if err != nil {
		return usageErrorf("card", "-http: %v", err)
	}
	// Read and check the card before asking the server anything.
	doc, err := readCard(file)
	if err != nil {
		return fmt.Errorf("card: %w", err)
	}
	layout, err := parseCard(doc)
	if err != nil {
		return fmt.Errorf("card: %s: %w", file, err)
	}

	c, err := a.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	ratings, err := c.GetRating(ctx, *model, "", "")
	if err == nil && len(ratings) == 0 {
		err = client.ErrNotFound
	}
	if err != nil {
		return wrapf("card", *model, err)
	}
	base := override
	if base == "" {
		if base, err = serverBase(ctx, c); err != nil {
			return fmt.Errorf("card: %w", err)
		}
	}
	// One badge per task, of the rating the server's badge shows.
	shown := map[string]*energylabelv1.Rating{}
	for _, r := range ratings {
		if t := r.GetTask(); shown[t] == nil {
			if shown[t], err = c.BadgeRating(ctx, *model, t, "", "", ""); err != nil {
				return wrapf("card", *model, err)
			}
		}
	}
	edited := layout.with(cardSection(base, ratings, shown, badgeOptions{show: *show}, *heading))

	switch {
	case *out == "-":
		_, err := a.stdout.Write(edited)
		return err
	case *out != "":
		file = *out
	}
	if string(edited) == string(doc) && *out == "" {
		fmt.Fprintf(a.stderr, "%s: the energy section of %s is up to date\n", file, *model)
		return nil
	}
	if err := writeFileAtomic(file, edited); err != nil {
		return fmt.Errorf("card: %w", err)
	}
	verb := "added"
	if layout.found {
		verb = "updated"
	}
	fmt.Fprintf(a.stderr, "%s: energy section of %s %s (%d %s)\n", file, *model, verb, len(ratings), plural(len(ratings), "rating", "ratings"))
	return nil
}

// readCard reads a model card, refusing what is not one before reading it
// all: a directory, a device, a file of megabytes.
func readCard(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	if info.Size() > maxCardBytes {
		return nil, fmt.Errorf("%s: %d bytes: a model card has at most %d MiB", name, info.Size(), maxCardBytes>>20)
	}
	doc, err := io.ReadAll(io.LimitReader(f, maxCardBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return doc, nil
}

// writeFileAtomic replaces a file by writing a temporary file beside it and
// renaming it over, so that a reader sees the old card or the new one and
// never half of one. The new file keeps the old one's permissions; a
// symbolic link keeps pointing at the file it names, which is replaced.
func writeFileAtomic(name string, data []byte) (err error) {
	mode := os.FileMode(0o644)
	if real, err := filepath.EvalSymlinks(name); err == nil {
		name = real
		info, err := os.Stat(name)
		if err != nil {
			return err
		}
		mode = info.Mode().Perm()
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// cardSection is the Markdown between the markers: a heading, a badge per
// task, the table of every rating, and a line on how they are graded.
func cardSection(base string, rs []*energylabelv1.Rating, shown map[string]*energylabelv1.Rating, o badgeOptions, heading string) string {
	rs = slices.Clone(rs)
	slices.SortStableFunc(rs, func(x, y *energylabelv1.Rating) int {
		return cmp.Or(cmp.Compare(x.GetTask(), y.GetTask()), cmp.Compare(x.GetDataset(), y.GetDataset()),
			cmp.Compare(x.GetHardware(), y.GetHardware()), cmp.Compare(x.GetSizeClass(), y.GetSizeClass()))
	})
	var b strings.Builder
	if h := markdownText(strings.Join(strings.Fields(heading), " ")); h != "" {
		fmt.Fprintf(&b, "## %s\n\n", h)
	}
	// One badge per task (rs is in task order), of the rating the
	// server's badge shows.
	var tasks []string
	for _, r := range rs {
		if !slices.Contains(tasks, r.GetTask()) {
			tasks = append(tasks, r.GetTask())
		}
	}
	for _, t := range tasks {
		if r := shown[t]; r != nil {
			b.WriteString(markdownImage(base, r, badgeOptions{kind: "badge", show: o.show}) + "\n")
		}
	}
	b.WriteString("\n| Task | Dataset | Hardware | Size class | Grade | Stars | Energy per unit | Status | Release | Label |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		cells := []string{r.GetTask(), r.GetDataset(), hardware(r), orDash(r.GetSizeClass()), grade(r), stars(r.GetStars()),
			energyPerUnit(r), statusLine(r), orDash(r.GetRelease())}
		for i, c := range cells {
			cells[i] = tableCell(c)
		}
		if status(r) == label.StatusCorrected {
			// The declared figure surveyors replaced, struck through.
			cells[6] += " ~~" + tableCell(energy(r.GetVerification().GetDeclaredEnergyPerUnit(), r.GetUnit())) + "~~"
		}
		label := "[label](" + markdownURL(imageURL(base, r, badgeOptions{kind: "label"})) + ")"
		fmt.Fprintf(&b, "| %s | %s |\n", strings.Join(cells, " | "), label)
	}
	schemes := []string{}
	for _, r := range rs {
		if s := r.GetScheme(); s != "" && !slices.Contains(schemes, s) {
			schemes = append(schemes, s)
		}
	}
	fmt.Fprintf(&b, "\nGrades A–G are against fixed references (%s); stars 1–5 rank the model within its cohort as of the star release. "+
		"All ratings and their history: [%s](%s).\n\n",
		tableCell(orDash(strings.Join(schemes, ", "))), markdownText(rs[0].GetModel()), markdownURL(modelPage(base, rs[0].GetModel())))
	return b.String()
}

// tableCell keeps a value in its Markdown table cell.
func tableCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;").Replace(s)
}
