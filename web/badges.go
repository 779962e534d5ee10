package web

import (
	"errors"
	"net/http"
	"sync"
	"unicode/utf8"

	"github.com/energylabel/energylabel/errdefs"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/label"
	"github.com/energylabel/energylabel/service"
)

// Badges follow shields.io's conventions: style= and label= as shields
// reads them, the endpoint JSON at .json, and an error is a grey badge
// saying what is wrong, answered 200 so that image proxies (GitHub's camo)
// show it rather than a broken image.

// maxBadgeLabel bounds a badge's label= in bytes: a wider badge is no
// label any more.
const maxBadgeLabel = 64

// problemMaxAge is how long caches may keep a badge that says what is
// wrong: not long, since the URL or the ratings may soon be put right.
var problemCacheControl = []string{"max-age=60"}

// maxProblemDetail bounds the reason a problem badge's tooltip gives.
const maxProblemDetail = 200

// endpointCacheSeconds is what the endpoint JSON asks shields to keep it
// for, the images' max-age.
const endpointCacheSeconds = 300

// badgeLook is how a badge URL asks for its badge to be drawn: shields'
// style, and the label on its left when label= names one.
type badgeLook struct {
	style label.Style
	// custom is set when the URL has label=; label "" then draws the
	// message alone, as shields does.
	custom bool
	label  string
}

// look reads and bounds a badge URL's style and label.
func (q imageQuery) look() (badgeLook, error) {
	style, ok := label.ParseStyle(q.style)
	if !ok {
		return badgeLook{}, rating.Invalid("style", "a badge's style is flat, flat-square, plastic or for-the-badge, got %s", rating.Quote(q.style))
	}
	l := badgeLook{style: style, custom: q.labelSet, label: q.label}
	if len(q.label) > maxBadgeLabel {
		return badgeLook{style: style}, rating.Invalid("label", "at most %d bytes, got %d", maxBadgeLabel, len(q.label))
	}
	if !utf8.ValidString(q.label) {
		return badgeLook{style: style}, rating.Invalid("label", "not UTF-8")
	}
	return l, nil
}

// text applies the look's label to a badge.
func (l badgeLook) text(b label.BadgeText) label.BadgeText {
	if l.custom {
		b.Label = l.label
	}
	return b
}

// render draws a badge in the look, as SVG or as endpoint JSON.
func (l badgeLook) render(b label.BadgeText, kind imageKind) *image {
	b = l.text(b)
	if kind == gradeJSON || kind == starsJSON {
		return newImage("application/json", b.Endpoint(l.style, endpointCacheSeconds))
	}
	return newImage("image/svg+xml", b.SVG(l.style))
}

// problem is an error with the few words a badge says for it.
type problem struct {
	words string
	err   error
}

func (p *problem) Error() string { return p.err.Error() }
func (p *problem) Unwrap() error { return p.err }

// problemWords is what a badge says for an error: a few words naming
// what to put right.
func problemWords(err error) string {
	var p *problem
	if errors.As(err, &p) {
		return p.words
	}
	if _, ok := errors.AsType[*service.ManyTasksError](err); ok {
		return "pick a task"
	}
	var invalid *rating.InvalidError
	if errors.As(err, &invalid) && len(invalid.Violations) > 0 {
		switch f := invalid.Violations[0].Field; f {
		case "task":
			return "unknown task"
		case "scheme":
			return "unknown scheme"
		case "model":
			return "bad model id"
		case "show":
			return "show grade or stars"
		case "style":
			return "unknown style"
		case "label":
			return "bad label"
		default:
			return "bad " + f
		}
	}
	return "server error"
}

// imageError answers an image URL that cannot be answered with its image:
// a grey image saying what is wrong, a badge for a badge, with status 200
// and a short max-age, so that a model card shows no broken picture and
// image proxies cache no failure.
func (h *HTTP) imageError(w http.ResponseWriter, r *http.Request, kind imageKind, look badgeLook, err error) {
	if errdefs.KindOf(err) == errdefs.Internal {
		h.s.Logger().Warn("image", "path", errdefs.Clip(r.URL.Path, errdefs.MaxFieldBytes), "error", errdefs.Clip(err.Error(), errdefs.MaxMessageBytes))
	}
	words := problemWords(err)
	var img *image
	if kind.isBadge() {
		img = look.render(label.ProblemBadge(words, errdefs.Clip(err.Error(), maxProblemDetail)), kind)
	} else {
		img = problemImage(words, kind == labelPNG)
	}
	problem := *img
	problem.cacheControl = problemCacheControl
	problem.serve(w, r)
}

// problemImages are the grey images of labels and charts that cannot be
// drawn, by their words and format: the words come from a short list
// (problemWords), so the map stays small.
var problemImages sync.Map

type problemImageKey struct {
	words string
	png   bool
}

// problemImage is the grey image saying words, as PNG or SVG, drawn once.
func problemImage(words string, png bool) *image {
	key := problemImageKey{words, png}
	if img, ok := problemImages.Load(key); ok {
		return img.(*image)
	}
	d := label.Problem(words)
	img := newImage("image/svg+xml", d.SVG())
	if png {
		if b, err := d.PNG(); err == nil {
			img = newImage("image/png", b)
		}
	}
	got, _ := problemImages.LoadOrStore(key, img)
	return got.(*image)
}
