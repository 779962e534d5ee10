package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/energylabel/energylabel/rating"
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
  -scheme S      what a badge shows: grade (A-G, default) or stars
  -format F      svg (default) or png (labels only)
  -o FILE        write the image to FILE instead of stdout
  -markdown      print Markdown that embeds the image and links the model's page
  -http URL      the server's public HTTP address (env ENERGYLABEL_HTTP;
                 default http://<host of -addr>:8080)
  Images come from the server's HTTP surface, exactly as model cards show them.
`

// badgeHTTPPort is energylabeld's default HTTP port.
const badgeHTTPPort = "8080"

func runBadge(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("badge")
	task := fs.String("task", "", "")
	kind := fs.String("kind", "badge", "")
	scheme := fs.String("scheme", "", "")
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
	case *scheme != "" && *kind != "badge":
		return usageErrorf("badge", "-scheme applies to -kind badge only")
	case *scheme != "" && *scheme != "grade" && *scheme != "stars":
		return usageErrorf("badge", "-scheme must be grade or stars, got %q", *scheme)
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
	owner, name, _ := strings.Cut(model, "/")
	page := base + "/models/" + url.PathEscape(owner) + "/" + url.PathEscape(name)
	image := fmt.Sprintf("%s/%s/%s/%s.%s", base, *kind, url.PathEscape(owner), url.PathEscape(name), *format)
	q := url.Values{}
	if *task != "" {
		q.Set("task", taskID(*task))
	}
	if *scheme != "" {
		q.Set("scheme", *scheme)
	}
	if len(q) > 0 {
		image += "?" + q.Encode()
	}
	if *markdown {
		_, err := fmt.Fprintf(a.stdout, "[![AI energy label of %s](%s)](%s)\n", model, image, page)
		return err
	}
	body, err := fetch(ctx, image)
	if err != nil {
		return fmt.Errorf("badge %s: %w", model, err)
	}
	if *out == "" {
		_, err = a.stdout.Write(body)
		return err
	}
	if err := os.WriteFile(*out, body, 0o644); err != nil {
		return fmt.Errorf("badge %s: %w", model, err)
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

// maxImageBytes bounds what the CLI accepts as an image.
const maxImageBytes = 8 << 20

func fetch(ctx context.Context, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxImageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, strings.TrimSpace(string(body)))
	}
	if len(body) > maxImageBytes {
		return nil, fmt.Errorf("GET %s: image larger than %d bytes", u, maxImageBytes)
	}
	return body, nil
}
