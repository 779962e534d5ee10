// Package move copies everything one storage backend keeps into another,
// empty one (bbolt into etcd, when a registry outgrows one machine), and
// proves the copy: counts and checksums of each side, read back from it.
//
// Results keep their ids, and their records (audit trail, measure, and
// what the label said at acceptance) are copied byte for byte, and so each
// measurement's fingerprint claims its model there as here; each model's
// current result in each cohort stays current; tokens (hashes, scopes,
// roles and last use), operators' registry entries, star releases and
// surveyors' verifications follow, in the order they were made. Revisions are the target's own:
// history keeps its order and its labels, not the source's revision
// numbers, so a WatchRatings client resumes from the target's. The
// target rebuilds its history index (each model's results by cohort,
// what filtered history reads) from the records it imports; the summary
// compares the two indexes, so that the copy answers filtered history as
// the source does.
package move

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/internal/records"
)

// From is a backend a move reads: one that lists its records and its
// history index (storage.Exporter). Copy needs its records in id order,
// as bbolt lists them.
type From interface {
	storage.Backend
	storage.Exporter
}

// To is a backend a move fills (storage.Importer), and then reads back.
type To interface {
	From
	storage.Importer
}

// ErrNotEmpty refuses a move into a backend that holds data already.
var ErrNotEmpty = errors.New("the target is not empty")

// importBatch is how many records one Import call takes.
const importBatch = 1000

// Copy copies everything from holds into to, which must be empty, and
// calls progress with the number of results copied so far. Nothing may
// write to either meanwhile.
func Copy(ctx context.Context, from From, to To, progress func(results int)) error {
	empty, err := to.Empty(ctx)
	if err != nil {
		return err
	}
	if !empty {
		return ErrNotEmpty
	}
	snap, err := from.Snapshot(ctx)
	if err != nil {
		return err
	}
	current := map[uint64]storage.Current{}
	for _, c := range snap.Currents {
		current[c.ID] = c
	}
	var batch []storage.Record
	var latest []storage.Current
	n := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := to.Import(ctx, batch, latest); err != nil {
			return err
		}
		n += len(batch)
		if progress != nil {
			progress(n)
		}
		batch, latest = batch[:0], latest[:0]
		return nil
	}
	// Records come in id order from bbolt, so batches do too; a target
	// needs ids to rise from batch to batch.
	var last uint64
	err = from.EachRecord(ctx, func(r storage.Record) error {
		if r.ID <= last {
			return fmt.Errorf("move: the source lists result %d after %d; it must list them in id order", r.ID, last)
		}
		last = r.ID
		batch = append(batch, r)
		if c, ok := current[r.ID]; ok {
			latest = append(latest, c)
			delete(current, r.ID)
		}
		if len(batch) == importBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("move: results: %w", err)
	}
	if len(current) > 0 {
		return fmt.Errorf("move: %d current results have no record in the source", len(current))
	}
	for _, t := range snap.Tokens {
		if _, err := to.PutToken(ctx, t); err != nil {
			return fmt.Errorf("move: %w", err)
		}
	}
	for _, a := range snap.Accelerators {
		if _, err := to.AddAccelerator(ctx, a); err != nil {
			return fmt.Errorf("move: %w", err)
		}
	}
	for _, d := range snap.Datasets {
		if _, err := to.AddDataset(ctx, d); err != nil {
			return fmt.Errorf("move: %w", err)
		}
	}
	for _, rel := range snap.Releases {
		if _, err := to.CreateRelease(ctx, rel); err != nil {
			return fmt.Errorf("move: %w", err)
		}
	}
	for i := range snap.Verifications {
		if _, err := to.AddVerification(ctx, &snap.Verifications[i]); err != nil {
			return fmt.Errorf("move: %w", err)
		}
	}
	return nil
}

// Summary is what a backend holds, counted and summed.
type Summary struct {
	Results int
	// ResultsSHA256 covers every record, id and bytes, in id order.
	ResultsSHA256 string
	// Ratings counts the current results: one per model and cohort.
	Ratings int
	// RatingsSHA256 covers every current rating, in cohort and model
	// order: its result id, x, and its grade (letter and EEI) under the
	// scheme and stars under the latest release.
	RatingsSHA256 string
	// Grades counts the current ratings by letter ("" for none); Starred
	// counts those with stars of Release, the latest.
	Grades  map[string]int
	Starred int
	Release string
	// Tokens, Accelerators, Datasets, Releases and Verifications count
	// those; OthersSHA256 covers all of them, in order (verifications as
	// their records, without the revisions, which are each backend's own).
	Tokens, Accelerators, Datasets, Releases, Verifications int
	OthersSHA256                                            string
	// Indexed counts the history index's entries, one per result, and
	// IndexSHA256 covers them, in model, cohort and id order.
	Indexed     int
	IndexSHA256 string
}

// Summarize reads everything a backend holds and sums it up, grading
// its current results under scheme.
func Summarize(ctx context.Context, b From, scheme *rating.GradeScheme) (*Summary, error) {
	type idSum struct {
		id  uint64
		sum [sha256.Size]byte
	}
	var sums []idSum
	err := b.EachRecord(ctx, func(r storage.Record) error {
		h := sha256.New()
		binary.Write(h, binary.BigEndian, r.ID)
		h.Write(r.Value)
		sums = append(sums, idSum{id: r.ID})
		h.Sum(sums[len(sums)-1].sum[:0])
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(sums, func(a, b idSum) int { return cmp.Compare(a.id, b.id) })
	all := sha256.New()
	for _, s := range sums {
		all.Write(s.sum[:])
	}
	snap, err := b.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	sum := &Summary{Results: len(sums), ResultsSHA256: hexSum(all), Ratings: len(snap.Currents), Grades: map[string]int{},
		Tokens: len(snap.Tokens), Accelerators: len(snap.Accelerators), Datasets: len(snap.Datasets), Releases: len(snap.Releases),
		Verifications: len(snap.Verifications)}
	var rel *rating.Release
	if n := len(snap.Releases); n > 0 {
		rel = snap.Releases[n-1]
		sum.Release = rel.Name
	}
	currents := slices.Clone(snap.Currents)
	slices.SortFunc(currents, func(a, b storage.Current) int {
		return cmp.Or(compareCohorts(a.Measure.Cohort, b.Measure.Cohort), strings.Compare(a.Model, b.Model))
	})
	h := sha256.New()
	for _, c := range currents {
		g, st := scheme.Grade(c.Measure), rel.Stars(c.Measure)
		letter := ""
		if g.Note == "" {
			letter = g.Grade.String()
		}
		sum.Grades[letter]++
		if st.Stars > 0 {
			sum.Starred++
		}
		fmt.Fprintf(h, "%d %s %v %v %s %v %d\n", c.ID, c.Model, c.Measure.Cohort, c.Measure.X(), letter, g.EEI, st.Stars)
	}
	sum.RatingsSHA256 = hexSum(h)

	h = sha256.New()
	tokens := slices.Clone(snap.Tokens)
	slices.SortFunc(tokens, func(a, b storage.Token) int { return strings.Compare(a.ID, b.ID) })
	for _, t := range tokens {
		fmt.Fprintf(h, "token %s %x %q %s %s %s %v %q\n", t.ID, t.SecretSHA256, t.Namespaces, stamp(t.CreatedAt), stamp(t.ExpiresAt), stamp(t.LastUsedAt), t.Revoked, t.Role)
	}
	for _, a := range snap.Accelerators {
		fmt.Fprintf(h, "accelerator %q %q %v %v %q %q %v %v %q %v\n", a.Name, a.Family, a.BoardWatts, a.FloorFraction, a.Aliases,
			a.Source, a.PeakTFLOPS16, a.PeakTFLOPSFastest, a.FastestPrecision, a.MemoryGB)
	}
	for _, d := range snap.Datasets {
		fmt.Fprintf(h, "dataset %q %q %s\n", d.Name, d.Task, d.Basis)
	}
	for _, r := range snap.Releases {
		fmt.Fprintf(h, "release %q %s %v\n", r.Name, stamp(r.CreatedAt), r.Cohorts)
	}
	for i := range snap.Verifications {
		v, err := proto.MarshalOptions{Deterministic: true}.Marshal(records.Verification(&snap.Verifications[i]))
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "verification %x\n", sha256.Sum256(v))
	}
	sum.OthersSHA256 = hexSum(h)

	h = sha256.New()
	err = b.EachIndexed(ctx, func(model, cohort string, id uint64) error {
		sum.Indexed++
		fmt.Fprintf(h, "%q %q %d\n", model, cohort, id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sum.IndexSHA256 = hexSum(h)
	return sum, nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

func compareCohorts(a, b rating.Cohort) int {
	return cmp.Or(strings.Compare(a.Task, b.Task), strings.Compare(a.Dataset, b.Dataset), strings.Compare(a.SizeClass, b.SizeClass),
		strings.Compare(a.Hardware, b.Hardware), cmp.Compare(a.Basis, b.Basis))
}

// Report prints the two summaries side by side and returns an error
// naming what differs, if anything does.
func Report(w io.Writer, from, to *Summary) error {
	grades := func(s *Summary) string {
		var b strings.Builder
		for _, g := range []string{"A", "B", "C", "D", "E", "F", "G", ""} {
			if n := s.Grades[g]; n > 0 {
				if g == "" {
					g = "none"
				}
				fmt.Fprintf(&b, "%s %d, ", g, n)
			}
		}
		return strings.TrimSuffix(b.String(), ", ")
	}
	rows := []struct{ what, from, to string }{
		{"results", fmt.Sprint(from.Results), fmt.Sprint(to.Results)},
		{"results sha256", from.ResultsSHA256, to.ResultsSHA256},
		{"ratings", fmt.Sprint(from.Ratings), fmt.Sprint(to.Ratings)},
		{"ratings sha256", from.RatingsSHA256, to.RatingsSHA256},
		{"grades", grades(from), grades(to)},
		{"latest release", cmp.Or(from.Release, "(none)"), cmp.Or(to.Release, "(none)")},
		{"ratings with its stars", fmt.Sprint(from.Starred), fmt.Sprint(to.Starred)},
		{"tokens", fmt.Sprint(from.Tokens), fmt.Sprint(to.Tokens)},
		{"accelerators added", fmt.Sprint(from.Accelerators), fmt.Sprint(to.Accelerators)},
		{"datasets added", fmt.Sprint(from.Datasets), fmt.Sprint(to.Datasets)},
		{"releases", fmt.Sprint(from.Releases), fmt.Sprint(to.Releases)},
		{"verifications", fmt.Sprint(from.Verifications), fmt.Sprint(to.Verifications)},
		{"tokens…verifications sha256", from.OthersSHA256, to.OthersSHA256},
		{"history index", fmt.Sprint(from.Indexed), fmt.Sprint(to.Indexed)},
		{"history index sha256", from.IndexSHA256, to.IndexSHA256},
	}
	var differ []string
	fmt.Fprintf(w, "%-36s %-64s %s\n", "", "from", "to")
	for _, r := range rows {
		mark := ""
		if r.from != r.to {
			mark = "  DIFFERS"
			differ = append(differ, r.what)
		}
		fmt.Fprintf(w, "%-36s %-64s %s%s\n", r.what, r.from, r.to, mark)
	}
	if len(differ) > 0 {
		return fmt.Errorf("move: the copy differs from the source in %s", strings.Join(differ, ", "))
	}
	fmt.Fprintln(w, "the copy matches the source")
	return nil
}
