// Package label draws the badges and energy labels that model cards embed.
package label

import (
	"image/color"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Rating is what a badge or label shows about one graded model.
type Rating struct {
	// Model is "owner/name".
	Model string
	Task  string
	// Dataset is the workload measured, e.g. "AIEnergyScore/asr".
	Dataset string
	// SizeClass is "A", "B" or "C" for tasks graded by size class, else "".
	SizeClass string
	// Hardware is the accelerator, e.g. "H100".
	Hardware string
	// GPUCount is 0 when not reported.
	GPUCount int
	// Date is when the energy was measured; zero when the result does not
	// say (a row of a published leaderboard).
	Date time.Time
	// Received is when the service received the result: its submission,
	// or its import for a published leaderboard's row. The label shows it
	// when Date is zero; zero when unknown.
	Received       time.Time
	WhPer1kQueries float64
	EnergyPerUnit  float64
	// Unit is the unit of EnergyPerUnit, e.g. "J/token" or "Wh/1k queries".
	Unit string
	// Basis is the unit the rating is computed on, e.g. "query" or "output_token".
	Basis string
	// Stars is 1 to 5; anything else shows as unrated.
	Stars int
	// Release names the star release the stars are of, e.g.
	// "aies-2025-02"; "" when unknown.
	Release string
	// Grade is "A" to "G", or "" when the cohort has no reference.
	Grade  string
	EEI    float64
	Scheme string
	// PageURL is the absolute URL of the model's page, encoded in the QR code.
	PageURL string
	// Verification is who vouches for the figures, and what market
	// surveillance found. For a corrected rating, WhPer1kQueries,
	// EnergyPerUnit, Grade and Stars are the determined figures and theirs.
	Verification Verification
	// MeasuredWith names what measured the figures when the service
	// checked it, e.g. "energylabel measure, NVML"; "" otherwise.
	MeasuredWith string
}

// The verification statuses, as the API spells them.
const (
	StatusPublished   = "published"
	StatusDeclared    = "declared"
	StatusVerified    = "verified"
	StatusUnderReview = "under_review"
	StatusCorrected   = "corrected"
)

// Verification says who vouches for a rating's figures and what market
// surveillance found, as the API's verification message carries it.
type Verification struct {
	// Status is StatusPublished, StatusDeclared, StatusVerified,
	// StatusUnderReview or StatusCorrected; "" says nothing.
	Status string
	// CheckedAt is when a surveyor last measured the model; zero when none
	// did.
	CheckedAt time.Time
	// The publisher's declared figures, which a corrected rating shows
	// struck through, and their grade ("" when unknown).
	DeclaredWhPer1kQueries, DeclaredEnergyPerUnit float64
	DeclaredGrade                                 string
	// The determined figures: the surveyor's measurement that put the
	// rating under review, or the mean of the follow-ups that corrected
	// it; 0 when there are none.
	DeterminedWhPer1kQueries, DeterminedEnergyPerUnit float64
}

// StatusText says in a few words who vouches for a rating's figures:
// "verified 2026-12-05", "declared by the publisher", "published
// leaderboard", "under review: declared 2.10 Wh/1k queries, surveyor
// measured 3.00" or "corrected 2026-12-05"; "" when the rating does not
// say.
func StatusText(r Rating) string {
	v := r.Verification
	switch v.Status {
	case "":
		return ""
	case StatusPublished:
		return "published leaderboard"
	case StatusDeclared:
		if r.MeasuredWith != "" {
			return "declared, measured with " + clean(r.MeasuredWith)
		}
		return "declared by the publisher"
	case StatusVerified:
		return "verified" + onDate(v.CheckedAt, " by a surveyor")
	case StatusUnderReview:
		// Both figures are in the same unit, which is said once.
		s := "under review: declared " + FormatEnergy(v.DeclaredWhPer1kQueries, perQuery)
		if v.DeterminedWhPer1kQueries > 0 {
			s += ", surveyor measured " + FormatNumber(v.DeterminedWhPer1kQueries)
		}
		return s
	case StatusCorrected:
		return "corrected" + onDate(v.CheckedAt, " by surveyors")
	}
	return strings.ReplaceAll(clean(v.Status), "_", " ")
}

// onDate is " 2026-12-05" for a known time, else otherwise.
func onDate(t time.Time, otherwise string) string {
	if t.IsZero() {
		return otherwise
	}
	return " " + t.UTC().Format(time.DateOnly)
}

// grade returns the grade's index, 0 for A to 6 for G, and false when the
// rating has no valid grade.
func (r Rating) grade() (int, bool) {
	if len(r.Grade) == 1 && r.Grade[0] >= 'A' && r.Grade[0] <= 'G' {
		return int(r.Grade[0] - 'A'), true
	}
	return 0, false
}

func (r Rating) stars() (int, bool) { return r.Stars, r.Stars >= 1 && r.Stars <= 5 }

// Colours of the EU energy label's class arrows, as the regulation's
// artwork specifies them in CMYK (A 100/0/100/0, B 70/0/100/0,
// C 30/0/100/0, D 0/0/100/0, E 0/30/100/0, F 0/70/100/0, G 0/100/100/0),
// in the sRGB values print-to-screen conversion gives for them.
var gradeColours = [7]color.RGBA{
	{0x00, 0xa6, 0x51, 0xff}, // A
	{0x50, 0xb8, 0x48, 0xff}, // B
	{0xbe, 0xd6, 0x30, 0xff}, // C
	{0xff, 0xf2, 0x00, 0xff}, // D
	{0xfd, 0xb9, 0x13, 0xff}, // E
	{0xf3, 0x70, 0x21, 0xff}, // F
	{0xed, 0x1c, 0x24, 0xff}, // G
}

// starColours are the stars badge's fills, for no stars and for 1 to 5:
// red to green as the grades go, each dark or light enough that the text
// badge-maker's rule puts on it (white, or #333 on the amber of 3) has at
// least the 4.5:1 contrast WCAG 2 AA asks of text. Hollow ☆ stay legible.
var starColours = [6]color.RGBA{
	{0x6b, 0x6b, 0x6b, 0xff}, // no stars: a grey dark enough for white text
	{0xb3, 0x26, 0x1e, 0xff}, // 1: red
	{0xb5, 0x47, 0x08, 0xff}, // 2: dark orange
	{0xf2, 0xc9, 0x4c, 0xff}, // 3: amber, with dark text
	{0x4a, 0x7c, 0x1f, 0xff}, // 4: olive green
	{0x11, 0x7a, 0x3d, 0xff}, // 5: green
}

var (
	grey     = color.RGBA{0x9f, 0x9f, 0x9f, 0xff} // shields.io "lightgrey"
	white    = color.RGBA{0xff, 0xff, 0xff, 0xff}
	ink      = color.RGBA{0x1a, 0x1a, 0x1a, 0xff}
	darkText = color.RGBA{0x33, 0x33, 0x33, 0xff}
)

// contrast is the WCAG 2 contrast ratio of two colours, 1 to 21.
func contrast(a, b color.RGBA) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// luminance is WCAG 2's relative luminance of an sRGB colour.
func luminance(c color.RGBA) float64 {
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
}

// light reports whether dark text reads better on c, by badge-maker's rule:
// perceived brightness (ITU-R BT.601 weights) above 0.69.
func light(c color.RGBA) bool {
	return (299*float64(c.R)+587*float64(c.G)+114*float64(c.B))/1000/255 > 0.69
}

// textOn is the text colour for a fill.
func textOn(c color.RGBA) color.RGBA {
	if light(c) {
		return darkText
	}
	return white
}

// Dash stands for a value that is unknown or not a finite number.
const Dash = "—"

// FormatNumber formats v to three significant figures: 0.0214, 2.37, 29.9,
// 1720. Outside [0.001, 1e6) it uses an exponent, and it gives Dash for NaN
// and infinities.
func FormatNumber(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Dash
	}
	if v == 0 {
		return "0"
	}
	// Round once, in decimal, then read the exponent off the rounded value
	// so that 999.6 becomes "1000", never "1.00e+03" or "999.6".
	e := strconv.FormatFloat(v, 'e', 2, 64)
	i := strings.IndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[i+1:])
	if exp < -3 || exp >= 6 {
		mant := e[:i]
		return mant + "e" + strconv.Itoa(exp)
	}
	rounded, _ := strconv.ParseFloat(e, 64)
	return strconv.FormatFloat(rounded, 'f', max(0, 2-exp), 64)
}

// clean makes s safe to measure and to put in XML: invalid UTF-8 becomes
// U+FFFD, and control and format characters (newlines, bidi overrides),
// which have no place on a one-line label, are dropped.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == 0xFFFE, r == 0xFFFF:
			return -1
		case r >= 0xD800 && r <= 0xDFFF:
			return '\uFFFD'
		}
		return r
	}, s)
}

// or returns s, or Dash when s is blank.
func or(s string) string {
	if strings.TrimSpace(s) == "" {
		return Dash
	}
	return s
}
