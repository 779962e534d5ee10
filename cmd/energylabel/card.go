package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating/label"
)

var cardCommand = &command{
	name:    "card",
	usage:   "card -model M [-o FILE|-] [-heading LINE] [-after LINE] [-allow-local] FILE",
	summary: "add or update the energy section of a model card (a Hugging Face README.md)",
	help: `
  -model M         the model, owner/name, as it is rated
  -o FILE          write the card to FILE instead of FILE itself; -o - prints it
  -show S          what the badges show: grade (A-G, default) or stars
  -heading LINE    the section's heading line, "## Energy use" by default, e.g.
                   -heading "### Energy"; text without #s is a level-2 heading;
                   "" for none
  -after LINE      place a new section at the end of the section under this heading,
                   e.g. -after "## Environmental Impact" (text alone matches any
                   level); by default a new section goes at the end of the card
  -http URL        the server's public HTTP address for the badges and links
                   (env ENERGYLABEL_HTTP); by default the one the server reports
  -allow-local     write URLs of a loopback, private or link-local address
                   (127.0.0.0/8, ::1, localhost, 10/8, 172.16/12, 192.168/16,
                   169.254/16, fe80::/10, fc00::/7), which card otherwise refuses:
                   readers of a published card cannot reach them
  The section sits between the lines ` + cardStart + ` and
  ` + cardEnd + `: it is replaced there, or added. It holds a badge per
  task, a table of the model's ratings (task with dataset and hardware, size
  class, grade linking to its label, stars, energy, status) and a line saying
  that the grade is absolute (fixed references of the grade scheme) and the
  stars relative (the model's cohort in the named star release). The YAML
  front matter and every byte outside the markers stay as they are, and a
  second run with nothing new changes nothing. Markers inside the front
  matter or a code block are not markers. The file is replaced atomically,
  keeping its permissions. With -json, one line says what was done.
`,
	run: runCard,
}

// cardResult is card -json's line.
type cardResult struct {
	Model string `json:"model"`
	// File is the card read; Output where the card went ("-" for
	// stdout).
	File   string `json:"file"`
	Output string `json:"output"`
	// Change is "added", "updated" or "unchanged".
	Change  string `json:"change"`
	Ratings int    `json:"ratings"`
	Section string `json:"section"`
	// Card is the whole edited card, with -o - only.
	Card string `json:"card,omitempty"`
}

func runCard(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("card")
	model := fs.String("model", "", "")
	out := fs.String("o", "", "")
	show := fs.String("show", "", "")
	headingFlag := fs.String("heading", "## Energy use", "")
	after := fs.String("after", "", "")
	allowLocal := fs.Bool("allow-local", false, "")
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
	if err := checkModel("card", "-model", *model); err != nil {
		return err
	}
	headingLine := ""
	if strings.TrimSpace(*headingFlag) != "" {
		level, text, ok := parseHeadingLine(*headingFlag)
		if !ok {
			return briefUsageErrorf("card", "card: -heading %s: want a heading line, e.g. \"### Energy\": one to six #s, a space and the text", quoteShort(*headingFlag))
		}
		headingLine = strings.Repeat("#", level) + " " + markdownText(text)
	}
	if _, _, ok := parseHeadingLine(*after); !ok {
		return briefUsageErrorf("card", "card: -after %s: want a heading line of the card, e.g. \"## Environmental Impact\"", quoteShort(*after))
	}
	override, err := a.httpOverride(*httpFlag)
	if err != nil {
		return usageErrorf("card", "-http: %v", err)
	}
	if override != "" && !*allowLocal {
		if err := refuseLocal("-http "+override, override); err != nil {
			return err
		}
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
	if layout, err = layout.placeAfter(*after); err != nil {
		return fmt.Errorf("card: %s: %w", file, err)
	}

	c, err := a.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	base := override
	if base == "" {
		if base, err = serverBase(ctx, c); err != nil {
			return fmt.Errorf("card: %w", err)
		}
		if !*allowLocal {
			if err := refuseLocal("the server's public URL "+base, base); err != nil {
				return err
			}
		}
	}
	ratings, err := getRatings(ctx, c, *model, "", "")
	if err != nil {
		// A model id in another case: the card names the one model it
		// means, as it is rated.
		var other string
		if other, err = a.spelledOtherwise(ctx, c, "card", *model, "", err); err == nil {
			*model = other
			ratings, err = getRatings(ctx, c, *model, "", "")
		}
	}
	if err != nil {
		return wrapf("card", *model, err)
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
	section := cardSection(base, ratings, shown, badgeOptions{show: *show}, headingLine)
	edited := layout.with(section)

	res := cardResult{Model: *model, File: file, Output: file, Change: "added", Ratings: len(ratings), Section: section}
	if layout.found {
		res.Change = "updated"
	}
	if string(edited) == string(doc) {
		res.Change = "unchanged"
	}
	switch {
	case *out == "-":
		res.Output = "-"
		if a.cfg.JSON {
			res.Card = string(edited)
			return a.printObjectJSON(res, nil)
		}
		_, err := a.stdout.Write(edited)
		return err
	case *out != "":
		file, res.Output = *out, *out
	}
	if res.Change == "unchanged" && *out == "" {
		fmt.Fprintf(a.stderr, "%s: the energy section of %s is up to date\n", file, *model)
	} else {
		if err := writeFileAtomic(file, edited); err != nil {
			return fmt.Errorf("card: %w", err)
		}
		fmt.Fprintf(a.stderr, "%s: energy section of %s %s (%d %s)\n", file, *model, res.Change, len(ratings), plural(len(ratings), "rating", "ratings"))
	}
	if a.cfg.JSON {
		return a.printObjectJSON(res, nil)
	}
	return nil
}

// refuseLocal refuses to write base, named by what, into a model card
// when readers could not reach it: a loopback, private or link-local
// address. Names are not resolved: a host name is taken as public.
func refuseLocal(what, base string) error {
	why := localAddress(base)
	if why == "" {
		return nil
	}
	return briefUsageErrorf("card", "card: %s is %s, which readers of the model card cannot reach: pass -http with the server's public URL, or -allow-local to write it anyway", what, why)
}

// localAddress says what kind of address base's host is when a reader on
// the internet cannot reach it ("a loopback address"), else "".
func localAddress(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return "localhost"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	switch ip = ip.Unmap(); {
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsPrivate():
		return "a private address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "a link-local address"
	case ip.IsUnspecified():
		return "an unspecified address"
	}
	return ""
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
// The table fits a model card: six columns at most, the size class only
// where a rating has one, each grade linking to its full label.
func cardSection(base string, rs []*energylabelv1.Rating, shown map[string]*energylabelv1.Rating, o badgeOptions, heading string) string {
	rs = slices.Clone(rs)
	slices.SortStableFunc(rs, func(x, y *energylabelv1.Rating) int {
		return cmp.Or(cmp.Compare(x.GetTask(), y.GetTask()), cmp.Compare(x.GetDataset(), y.GetDataset()),
			cmp.Compare(x.GetHardware(), y.GetHardware()), cmp.Compare(x.GetSizeClass(), y.GetSizeClass()))
	})
	var b strings.Builder
	if heading != "" {
		b.WriteString(heading + "\n\n")
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
	sizeClasses := slices.ContainsFunc(rs, func(r *energylabelv1.Rating) bool { return r.GetSizeClass() != "" })
	header := []string{"Task (dataset, hardware)", "Size class", "Grade", "Stars", "Energy", "Status"}
	if !sizeClasses {
		header = slices.Delete(header, 1, 2)
	}
	b.WriteString("\n| " + strings.Join(header, " | ") + " |\n")
	b.WriteString(strings.Repeat("|---", len(header)) + "|\n")
	var schemes, releases []string
	for _, r := range rs {
		gradeCell := "[" + markdownText(grade(r)) + "](" + markdownURL(imageURL(base, r, badgeOptions{kind: "label"})) + ")"
		if r.GetGrade() == "" {
			gradeCell = "none ([label](" + markdownURL(imageURL(base, r, badgeOptions{kind: "label"})) + "))"
		}
		starsCell := tableCell(stars(r.GetStars()))
		switch rel := tableCell(r.GetRelease()); {
		case rel == "":
		case r.GetStars() >= 1:
			starsCell += " (" + rel + ")"
		default:
			starsCell = "none in " + rel
		}
		energyCell := tableCell(energyPerUnit(r))
		if status(r) == label.StatusCorrected {
			// The declared figure surveyors replaced, struck through.
			energyCell += " ~~" + tableCell(energy(r.GetVerification().GetDeclaredEnergyPerUnit(), r.GetUnit())) + "~~"
		}
		cells := []string{tableCell(r.GetTask() + " (" + r.GetDataset() + ", " + hardware(r) + ")")}
		if sizeClasses {
			cells = append(cells, tableCell(orDash(r.GetSizeClass())))
		}
		cells = append(cells, gradeCell, starsCell, energyCell, tableCell(statusLine(r)))
		fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
		if s := r.GetScheme(); s != "" && !slices.Contains(schemes, s) {
			schemes = append(schemes, s)
		}
		if rel := r.GetRelease(); rel != "" && !slices.Contains(releases, rel) {
			releases = append(releases, rel)
		}
	}
	fmt.Fprintf(&b, "\n%s\n\nEach grade links to its full label. All ratings and their history: [%s](%s).\n\n",
		gradingLine(schemes, releases), markdownText(rs[0].GetModel()), markdownURL(modelPage(base, rs[0].GetModel())))
	return b.String()
}

// gradingLine says in one line what the letter and the stars compare
// with: the letter is absolute, against the fixed references of the grade
// scheme; the stars are relative, to the model's cohort in the named star
// release.
func gradingLine(schemes, releases []string) string {
	scheme := "the grade scheme"
	if len(schemes) > 0 {
		scheme = tableCell(strings.Join(schemes, ", "))
	}
	starsPart := "The stars (1–5) are relative: they rank the model within its cohort in a star release, and there is none yet."
	if len(releases) > 0 {
		starsPart = "The stars (1–5) are relative: they rank the model within its cohort in star release " + tableCell(strings.Join(releases, ", ")) + "."
	}
	return "The grade (A–G) is absolute: it compares the energy with fixed references (" + scheme + "), whatever other models do. " + starsPart
}

// tableCell keeps a value in its Markdown table cell.
func tableCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;").Replace(s)
}
