package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/energylabel/energylabel/client"
	"github.com/energylabel/energylabel/internal/wire"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating/label"
)

var badgeCommand = &command{
	name:    "badge",
	usage:   "badge MODEL -task T [-kind badge|label] [-format svg|png] [-o FILE] [-markdown]",
	summary: "a model's badge or energy label image, or Markdown embedding it",
	help:    badgeHelp,
	run:     runBadge,
}

const badgeHelp = `
  -task T        task id or AIES alias; needed when the model is rated for several tasks
  -hardware H    the accelerator family, and -dataset D the dataset, of the rating to
                 show, where the model has several for the task; by default the one
                 the server's badge shows
  -kind K        badge (a shields.io-style badge) or label (the full energy label); default badge
  -show S        what a badge shows: grade (A-G, default) or stars
  -scheme S      grade scheme version, e.g. grade/2025.1; default the current one (badges)
  -format F      svg (default) or png (labels only)
  -o FILE        write the image to FILE instead of stdout
  -markdown      print the Markdown a model card embeds: the badge or label, linking the
                 model's page, its alt text saying the grade (or stars) and the energy
  -http URL      the server's public HTTP address for links and the label's QR code
                 (env ENERGYLABEL_HTTP); by default the one the server reports
  -json          with -markdown, one JSON line: the Markdown, its image and link URLs,
                 its alt text and the rating; with -o FILE, one line saying what was
                 written. (Without either, the image would share stdout: refused.)
  MODEL is owner/name; one that differs only in case from one rated model reads it.
  The rating comes over gRPC; the image is drawn here with the server's own code.
`

// badgeOptions are what badge and card choose of a rating and its image.
type badgeOptions struct {
	task, hardware, dataset string
	kind, show, scheme      string
}

func runBadge(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("badge")
	var o badgeOptions
	fs.StringVar(&o.task, "task", "", "")
	fs.StringVar(&o.hardware, "hardware", "", "")
	fs.StringVar(&o.dataset, "dataset", "", "")
	fs.StringVar(&o.kind, "kind", "badge", "")
	fs.StringVar(&o.show, "show", "", "")
	fs.StringVar(&o.scheme, "scheme", "", "")
	format := fs.String("format", "svg", "")
	out := fs.String("o", "", "")
	markdown := fs.Bool("markdown", false, "")
	httpFlag := fs.String("http", "", "")
	pos, err := a.parse("badge", fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return missingFlags("badge", "MODEL")
	case len(pos) > 1:
		return usageErrorf("badge", "unexpected argument %q", pos[1])
	case o.kind != "badge" && o.kind != "label":
		return usageErrorf("badge", "-kind must be badge or label, got %q", o.kind)
	case *format != "svg" && *format != "png":
		return usageErrorf("badge", "-format must be svg or png, got %q", *format)
	case o.kind == "badge" && *format == "png":
		return usageErrorf("badge", "badges are SVG only; use -kind label for PNG")
	case o.show != "" && o.kind != "badge":
		return usageErrorf("badge", "-show applies to -kind badge only")
	case o.show != "" && o.show != "grade" && o.show != "stars":
		return usageErrorf("badge", "-show must be grade or stars, got %q", o.show)
	case *markdown && *out != "":
		return usageErrorf("badge", "-markdown prints text; it does not take -o")
	case *markdown && o.scheme != "" && o.kind == "label":
		return usageErrorf("badge", "-scheme: the server's labels show the current scheme; it applies to badges")
	case a.cfg.JSON && !*markdown && *out == "":
		return briefUsageErrorf("badge", "badge: -json prints a JSON line where the image would go: give -o FILE (the line then says what was written) or -markdown")
	}
	model := pos[0]
	if err := checkModel("badge", "MODEL", model); err != nil {
		return err
	}
	override, err := a.httpOverride(*httpFlag)
	if err != nil {
		return usageErrorf("badge", "-http: %v", err)
	}
	if o.task, err = resolveTask("badge", o.task); err != nil {
		return err
	}
	c, err := a.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	// The server chooses the rating, as its own badges do.
	r, err := c.BadgeRating(ctx, model, o.task, o.hardware, o.dataset, o.scheme)
	if err != nil {
		// A model id in another case: show the one model it names.
		notFound := err
		var other string
		if other, err = a.spelledOtherwise(ctx, c, "badge", model, o.task, err); err == nil {
			model = other
			r, err = c.BadgeRating(ctx, model, o.task, o.hardware, o.dataset, o.scheme)
		} else if err == notFound && o.kind == "badge" && !*markdown {
			// As on a model card: a grey badge, never a broken image.
			return a.writeImage(*out, label.NotRated(model), badgeWritten{Model: model, Kind: o.kind, Format: *format})
		}
	}
	if err != nil {
		return wrapf("badge", model, err)
	}
	if o.kind == "badge" && !*markdown {
		kind := label.GradeBadge
		if o.show == "stars" {
			kind = label.StarsBadge
		}
		return a.writeImage(*out, label.Badge(wire.LabelRating(r, ""), kind), badgeWritten{Model: model, Kind: o.kind, Format: *format, rating: r})
	}
	base := override
	if base == "" {
		if base, err = serverBase(ctx, c); err != nil {
			return wrapf("badge", model, err)
		}
	}
	if *markdown {
		if a.cfg.JSON {
			return a.printObjectJSON(badgeMarkdown{Markdown: markdownImage(base, r, o), ImageURL: imageURL(base, r, o),
				LinkURL: modelPage(base, r.GetModel()), AltText: altText(r, o)}, r)
		}
		_, err := fmt.Fprintln(a.stdout, markdownImage(base, r, o))
		return err
	}
	d, err := label.Label(wire.LabelRating(r, modelPage(base, model)))
	if err != nil {
		return wrapf("badge", model, err)
	}
	body := d.SVG()
	if *format == "png" {
		if body, err = d.PNG(); err != nil {
			return wrapf("badge", model, err)
		}
	}
	return a.writeImage(*out, body, badgeWritten{Model: model, Kind: o.kind, Format: *format, rating: r})
}

// badgeMarkdown is badge -markdown -json's line.
type badgeMarkdown struct {
	Markdown string `json:"markdown"`
	ImageURL string `json:"image_url"`
	LinkURL  string `json:"link_url"`
	AltText  string `json:"alt_text"`
}

// badgeWritten is badge -o FILE -json's line: the image written, and the
// rating it shows (none for a "not rated" badge).
type badgeWritten struct {
	File   string `json:"file"`
	Model  string `json:"model"`
	Kind   string `json:"kind"`
	Format string `json:"format"`
	Bytes  int    `json:"bytes"`
	rating *energylabelv1.Rating
}

// writeImage writes to the file, or to stdout when there is none; with
// -json, a line saying what it wrote.
func (a *app) writeImage(file string, body []byte, w badgeWritten) error {
	if file == "" {
		_, err := a.stdout.Write(body)
		return err
	}
	if err := os.WriteFile(file, body, 0o644); err != nil {
		return fmt.Errorf("badge: %w", err)
	}
	if a.cfg.JSON {
		w.File, w.Bytes = file, len(body)
		return a.printObjectJSON(w, w.rating)
	}
	return nil
}

// httpOverride is the public base URL the user gives (-http, then
// ENERGYLABEL_HTTP), or "" to ask the server.
func (a *app) httpOverride(flagValue string) (string, error) {
	base := flagValue
	if base == "" {
		base = a.getenv("ENERGYLABEL_HTTP")
	}
	if base == "" {
		return "", nil
	}
	return cleanBase(base)
}

// cleanBase checks an http(s) base URL and drops its trailing slash; a
// bare host:port is taken as http.
func cleanBase(base string) (string, error) {
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%s is not an http(s) URL", quoteShort(base))
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// serverBase is the public base URL the server reports.
func serverBase(ctx context.Context, c *client.Client) (string, error) {
	info, err := c.ServerInfo(ctx)
	if err != nil {
		return "", err
	}
	if info.GetBaseUrl() == "" {
		return "", errors.New("the server reports no public base URL: pass -http URL")
	}
	base, err := cleanBase(info.GetBaseUrl())
	if err != nil {
		return "", fmt.Errorf("the server's public base URL: %w", err)
	}
	return base, nil
}

// modelPage is the model's page on the server.
func modelPage(base, model string) string { return base + "/models/" + model }

// imageQuery names a rating's cohort in an image URL, as the server's
// model page does: task, hardware and dataset, with "/" kept as it is, so
// that the server's cache sees the same URL from every model card.
func imageQuery(r *energylabelv1.Rating) string {
	esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/") }
	return "task=" + esc(r.GetTask()) + "&hardware=" + esc(r.GetHardware()) + "&dataset=" + esc(r.GetDataset())
}

// imageURL is the server's image of a rating: its badge (showing the
// grade, or stars) or its label.
func imageURL(base string, r *energylabelv1.Rating, o badgeOptions) string {
	if o.kind == "label" {
		return base + "/label/" + r.GetModel() + ".svg?" + imageQuery(r)
	}
	u := base + "/badge/" + r.GetModel() + ".svg?" + imageQuery(r)
	if o.show == "stars" {
		u += "&show=stars"
	}
	if o.scheme != "" {
		u += "&scheme=" + url.QueryEscape(o.scheme)
	}
	return u
}

// altText says what the image shows, for readers who cannot see it: the
// grade (or the stars) and the energy per 1,000 queries.
func altText(r *energylabelv1.Rating, o badgeOptions) string {
	what := "AI energy"
	if o.kind == "label" {
		what = "AI energy label"
	}
	var shown string
	switch {
	case o.show == "stars" && r.GetStars() >= 1:
		shown = fmt.Sprintf("%d/5 stars", r.GetStars())
	case o.show == "stars":
		shown = "no stars"
	case r.GetGrade() == "":
		shown = "not graded"
	default:
		shown = r.GetGrade()
	}
	return what + ": " + shown + " · " + energy(r.GetWhPer_1KQueries(), "Wh/1k queries")
}

// markdownImage is the Markdown of a rating's badge or label, linking to
// the model's page.
func markdownImage(base string, r *energylabelv1.Rating, o badgeOptions) string {
	return "[![" + markdownText(altText(r, o)) + "](" + markdownURL(imageURL(base, r, o)) + ")](" + markdownURL(modelPage(base, r.GetModel())) + ")"
}

// markdownText escapes what would end or nest a link's text.
func markdownText(s string) string {
	return strings.NewReplacer(`\`, `\\`, "[", `\[`, "]", `\]`, "<", "&lt;", "\n", " ").Replace(s)
}

// markdownURL escapes what would end a link's destination.
func markdownURL(s string) string {
	return strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E").Replace(s)
}
