package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/energylabel/energylabel/client"
	"github.com/energylabel/energylabel/internal/wire"
	"github.com/energylabel/energylabel/rating"
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
  -task T        task id or AIES alias; needed when the model has several ratings
  -kind K        badge (a shields.io-style badge) or label (the full energy label); default badge
  -show S        what a badge shows: grade (A-G, default) or stars
  -format F      svg (default) or png (labels only)
  -o FILE        write the image to FILE instead of stdout
  -markdown      print the Markdown a model card embeds: the badge, linking the model's page
  -http URL      the server's public HTTP address, which links and the label's QR
                 code point to (env ENERGYLABEL_HTTP; default http://<host of -addr>:8080)
  The rating comes over gRPC; the image is drawn here with the server's own code.
`

// badgeHTTPPort is energylabeld's default HTTP port.
const badgeHTTPPort = "8080"

func runBadge(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("badge")
	task := fs.String("task", "", "")
	kind := fs.String("kind", "badge", "")
	show := fs.String("show", "", "")
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
		return usageErrorf("badge", "missing MODEL")
	case len(pos) > 1:
		return usageErrorf("badge", "unexpected argument %q", pos[1])
	case *kind != "badge" && *kind != "label":
		return usageErrorf("badge", "-kind must be badge or label, got %q", *kind)
	case *format != "svg" && *format != "png":
		return usageErrorf("badge", "-format must be svg or png, got %q", *format)
	case *kind == "badge" && *format == "png":
		return usageErrorf("badge", "badges are SVG only; use -kind label for PNG")
	case *show != "" && *kind != "badge":
		return usageErrorf("badge", "-show applies to -kind badge only")
	case *show != "" && *show != "grade" && *show != "stars":
		return usageErrorf("badge", "-show must be grade or stars, got %q", *show)
	case *markdown && *out != "":
		return usageErrorf("badge", "-markdown prints text; it does not take -o")
	}
	model := pos[0]
	if err := rating.ValidateModel(model); err != nil {
		return fmt.Errorf("badge %s: %w", model, err)
	}
	base, err := a.httpBase(*httpFlag)
	if err != nil {
		return usageErrorf("badge", "-http: %v", err)
	}
	if *markdown && *task != "" {
		_, err := fmt.Fprintln(a.stdout, label.Markdown(base, model, "task="+url.QueryEscape(taskID(*task))))
		return err
	}
	c, err := a.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	ratings, err := c.GetRating(ctx, model, taskID(*task), "")
	if errors.Is(err, client.ErrNotFound) && *kind == "badge" && !*markdown {
		// As on a model card: a grey badge, never a broken image.
		return a.writeImage(*out, label.NotRated(model))
	}
	if err != nil {
		return fmt.Errorf("badge %s: %w", model, err)
	}
	if len(ratings) > 1 && *task == "" {
		tasks := make([]string, len(ratings))
		for i, r := range ratings {
			tasks[i] = r.GetTask()
		}
		return usageErrorf("badge", "%s has %d ratings (%s): pass -task", model, len(ratings), strings.Join(tasks, ", "))
	}
	r := ratings[0]
	if *markdown {
		_, err := fmt.Fprintln(a.stdout, label.Markdown(base, model, "task="+url.QueryEscape(r.GetTask())))
		return err
	}
	lr := wire.LabelRating(r, base+"/models/"+model)
	var body []byte
	switch {
	case *kind == "badge" && *show == "stars":
		body = label.Badge(lr, label.StarsBadge)
	case *kind == "badge":
		body = label.Badge(lr, label.GradeBadge)
	default:
		d, err := label.Label(lr)
		if err != nil {
			return fmt.Errorf("badge %s: %w", model, err)
		}
		body = d.SVG()
		if *format == "png" {
			if body, err = d.PNG(); err != nil {
				return fmt.Errorf("badge %s: %w", model, err)
			}
		}
	}
	return a.writeImage(*out, body)
}

// writeImage writes to the file, or to stdout when there is none.
func (a *app) writeImage(file string, body []byte) error {
	if file == "" {
		_, err := a.stdout.Write(body)
		return err
	}
	if err := os.WriteFile(file, body, 0o644); err != nil {
		return fmt.Errorf("badge: %w", err)
	}
	return nil
}

// httpBase is the server's HTTP base URL: the flag, then ENERGYLABEL_HTTP,
// then port 8080 on the gRPC address's host.
func (a *app) httpBase(flagValue string) (string, error) {
	base := flagValue
	if base == "" {
		base = a.getenv("ENERGYLABEL_HTTP")
	}
	if base == "" {
		host, _, err := net.SplitHostPort(a.cfg.Addr)
		if err != nil {
			host = "127.0.0.1"
		}
		base = "http://" + net.JoinHostPort(host, badgeHTTPPort)
	}
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL", base)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}
