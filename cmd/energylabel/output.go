package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/energylabel/energylabel/internal/wire"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating/label"
)

// jsonLine is the -json format: proto field names on one line, with zero
// values present so that e.g. "stars" and "grade" are always there.
var jsonLine = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}

func (a *app) printJSON(m proto.Message) error {
	b, err := jsonLine.Marshal(m)
	if err != nil {
		return err
	}
	_, err = a.stdout.Write(append(b, '\n'))
	return err
}

// printObjectJSON prints, on one line, a JSON object of what a command
// did that no API message holds (v, a struct with snake_case JSON
// names), with the rating it concerns as protojson under "rating" (null
// when there is none).
func (a *app) printObjectJSON(v any, r *energylabelv1.Rating) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // URLs and Markdown as they are: & and <, not \u0026
	if err := enc.Encode(v); err != nil {
		return err
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	rb := []byte("null")
	if r != nil {
		var err error
		if rb, err = jsonLine.Marshal(r); err != nil {
			return err
		}
	}
	if len(b) < 2 || b[len(b)-1] != '}' {
		return fmt.Errorf("printObjectJSON: %T is not a JSON object", v)
	}
	line := append(b[:len(b)-1:len(b)-1], `,"rating":`...)
	line = append(append(line, rb...), '}', '\n')
	_, err := a.stdout.Write(line)
	return err
}

func (a *app) printRatingsJSON(rs []*energylabelv1.Rating) error {
	for _, r := range rs {
		if err := a.printJSON(r); err != nil {
			return err
		}
	}
	return nil
}

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// row writes one tab-separated table row.
func row(w io.Writer, cells ...string) {
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

// num prints a plain number (watts, an EEI) with four significant
// digits, and never with an exponent.
func num(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "-"
	case v == 0:
		return "0"
	case math.Abs(v) >= 1e4:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	s := strconv.FormatFloat(v, 'g', 4, 64)
	if strings.Contains(s, "e") {
		r, _ := strconv.ParseFloat(s, 64)
		s = strconv.FormatFloat(r, 'f', -1, 64)
	}
	return s
}

// energy prints an energy figure in unit (Wh, "Wh/1k queries", J/token)
// as labels and badges print it: three significant digits and an SI prefix
// on the unit instead of an exponent, e.g. 170 µWh, 12.5 mJ/token.
func energy(v float64, unit string) string { return label.FormatEnergy(v, unit) }

// optNum prints an optional measurement, "-" when absent.
func optNum(v *float64) string {
	if v == nil {
		return "-"
	}
	return num(*v)
}

func stars(n int32) string {
	if n < 1 || n > 5 {
		return "-"
	}
	return strings.Repeat("★", int(n)) + strings.Repeat("☆", int(5-n))
}

func grade(r *energylabelv1.Rating) string {
	if r.GetGrade() == "" {
		return "-"
	}
	return r.GetGrade()
}

func energyPerUnit(r *energylabelv1.Rating) string {
	return energy(r.GetEnergyPerUnit(), r.GetUnit())
}

// per1k is the headline figure, Wh per 1,000 queries, for a column that
// says "per 1k queries".
func per1k(r interface{ GetWhPer_1KQueries() float64 }) string {
	return energy(r.GetWhPer_1KQueries(), "Wh")
}

// shownPer1k is a rating's energy per 1,000 queries, and for a corrected
// one the declared figure it replaced: "3.00 Wh (declared 2.10)".
func shownPer1k(r *energylabelv1.Rating) string {
	return withDeclared(r, r.GetWhPer_1KQueries(), r.GetVerification().GetDeclaredWhPer_1KQueries(), "Wh")
}

// shownPerUnit is energyPerUnit with a corrected rating's declared figure.
func shownPerUnit(r *energylabelv1.Rating) string {
	return withDeclared(r, r.GetEnergyPerUnit(), r.GetVerification().GetDeclaredEnergyPerUnit(), r.GetUnit())
}

// withDeclared is a figure in unit, followed for a corrected rating by
// the declared one, whose unit is said again only where its prefix
// differs.
func withDeclared(r *energylabelv1.Rating, shown, declared float64, unit string) string {
	s := energy(shown, unit)
	if status(r) != label.StatusCorrected {
		return s
	}
	n, u := label.SplitEnergy(declared, unit)
	if _, su := label.SplitEnergy(shown, unit); su != u {
		n += " " + u
	}
	return s + " (declared " + n + ")"
}

// status is a rating's verification status as the API spells it.
func status(r *energylabelv1.Rating) string { return r.GetVerification().GetStatus() }

// statusWord says in a word or two who vouches for a rating's figures:
// published, declared, verified ✓, under review or corrected; "-" when
// the server does not say.
func statusWord(r *energylabelv1.Rating) string {
	switch st := status(r); st {
	case "":
		return "-"
	case label.StatusVerified:
		return "verified ✓"
	default:
		return strings.ReplaceAll(st, "_", " ")
	}
}

// statusLine is the label's status line, with the ✓ of a verified
// rating: "verified ✓ 2026-12-05", "under review: declared 2.10 Wh/1k,
// surveyor measured 3.00".
func statusLine(r *energylabelv1.Rating) string {
	s := label.StatusText(wire.LabelRating(r, ""))
	if s == "" {
		return "-"
	}
	if status(r) == label.StatusVerified {
		s = strings.Replace(s, "verified", "verified ✓", 1)
	}
	return s
}

// releaseRank is a rating's place among its cohort's reference models in
// the current release: "3/13", "after 13" when it would come last, or "-"
// when the release ranks none there.
func releaseRank(r *energylabelv1.Rating) string {
	rank, of := r.GetRank(), r.GetReleaseCohortSize()
	switch {
	case rank == 0 || of == 0:
		return "-"
	case rank > of:
		return fmt.Sprintf("after %d", of)
	}
	return fmt.Sprintf("%d/%d", rank, of)
}

// floor says how far above the physical floor a rating's energy is:
// "27×", or "-" where no floor was computed.
func floor(r *energylabelv1.Rating) string {
	if r.FloorRatio == nil {
		return "-"
	}
	return label.FormatRatio(r.GetFloorRatio())
}

// hardware shows the accelerator with its count, e.g. "H100×8".
func hardware(r *energylabelv1.Rating) string {
	if r.GetGpuCount() > 0 {
		return fmt.Sprintf("%s×%d", r.GetHardware(), r.GetGpuCount())
	}
	return r.GetHardware()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cohortKey identifies the cohort a rating was graded in, for ranking.
func cohortKey(r *energylabelv1.Rating) string {
	return strings.Join([]string{r.GetTask(), r.GetDataset(), r.GetSizeClass(), r.GetHardware(), r.GetBasis()}, "\x00")
}
