package aienergyscore_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/calibration"
	"github.com/energylabel/energylabel/rating/formats/aienergyscore"
)

func TestParseBundledLeaderboard(t *testing.T) {
	results, err := aienergyscore.ParseDir(calibration.AIES202502())
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 166 {
		t.Errorf("%d rows, want 166", len(results))
	}
	for i := range results {
		if err := results[i].Validate(); err != nil {
			t.Errorf("row %d: %v", i, err)
		}
	}
}

func TestMalformedTablesNameTheLine(t *testing.T) {
	tests := []struct {
		name, task, csv, want string
	}{
		{"non-numeric energy", "asr", "model,total_gpu_energy,energy_score\na/b,lots,5\n", "line 2: total_gpu_energy"},
		{"missing energy column", "asr", "model,energy_score\na/b,5\n", `missing column "total_gpu_energy"`},
		{"text generation without class", "text_generation", "model,total_gpu_energy,energy_score\na/b,0.1,5\n", `missing column "class"`},
		{"ragged row", "asr", "model,total_gpu_energy,energy_score\na/b,0.1\n", "line 2"},
		{"unknown task", "juggling", "model,total_gpu_energy\n", "unknown task"},
		{"empty file", "asr", "", "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := aienergyscore.Parse(tt.task, strings.NewReader(tt.csv))
			if err == nil || !strings.Contains(err.Error(), tt.want) || got != nil {
				t.Errorf("Parse = %d results, %v; want an error containing %q", len(got), err, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add("asr", "model,total_gpu_energy,energy_score\nopenai/whisper-base,0.016545973,5\n")
	f.Add("text_generation", "model,total_gpu_energy,energy_score,class\nopenai-community/gpt2,0.002146239,5,A\n")
	f.Add("asr", "model,total_gpu_energy\n\"a/b\",-1\n")
	f.Fuzz(func(t *testing.T, task, data string) {
		results, err := aienergyscore.Parse(task, strings.NewReader(data))
		if err != nil {
			if results != nil {
				t.Fatalf("error %v with %d results", err, len(results))
			}
			return
		}
		for i := range results {
			// A parsed row is either valid or refused field by field.
			if err := results[i].Validate(); err != nil && !errors.Is(err, rating.ErrInvalid) {
				t.Fatalf("row %d: %v", i, err)
			}
		}
	})
}

// The bundled leaderboard is the February 2025 edition, and its rows carry
// that date, whether read from the bundle or from a copy laid out
// otherwise; another leaderboard's rows carry none, unless given one.
func TestTheLeaderboardsRowsCarryItsPublicationDate(t *testing.T) {
	feb := time.Date(2025, time.February, 1, 0, 0, 0, 0, time.UTC)
	results, err := aienergyscore.ParseDir(calibration.AIES202502())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if !r.MeasuredAt.Equal(feb) {
			t.Fatalf("%s: measured_at %v, want the leaderboard's 2025-02-01", r.Model, r.MeasuredAt)
		}
	}

	// The same figures with CRLF line ends, quoted fields and the columns
	// in another order are the same edition.
	copied := fstest.MapFS{}
	entries, _ := fs.ReadDir(calibration.AIES202502(), ".")
	for _, e := range entries {
		data, err := fs.ReadFile(calibration.AIES202502(), e.Name())
		if err != nil {
			t.Fatal(err)
		}
		copied[e.Name()] = &fstest.MapFile{Data: reorder(t, data)}
	}
	rows, err := aienergyscore.Rows(copied)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 166 || !rows[0].Result.MeasuredAt.Equal(feb) || !rows[165].Result.MeasuredAt.Equal(feb) {
		t.Errorf("a copy laid out otherwise: %d rows dated %v", len(rows), rows[0].Result.MeasuredAt)
	}

	// One figure changed: another leaderboard, undated unless told.
	other := fstest.MapFS{"asr.csv": {Data: []byte("model,total_gpu_energy,energy_score\nopenai/whisper-base,0.016545973,5\n")}}
	rows, err = aienergyscore.Rows(other)
	if err != nil || len(rows) != 1 || !rows[0].Result.MeasuredAt.IsZero() {
		t.Fatalf("another leaderboard: %+v, %v; want one undated row", rows, err)
	}
	day := time.Date(2025, time.December, 4, 0, 0, 0, 0, time.UTC)
	rows, err = aienergyscore.RowsPublished(other, day)
	if err != nil || !rows[0].Result.MeasuredAt.Equal(day) {
		t.Errorf("another leaderboard given its date: %+v, %v", rows, err)
	}
	if err := rows[0].Result.Validate(); err != nil {
		t.Error(err)
	}
}

// reorder writes a leaderboard table with its columns reversed, every
// field quoted and CRLF line ends.
func reorder(t *testing.T, data []byte) []byte {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, rec := range recs {
		for i := range rec {
			if i > 0 {
				out.WriteByte(',')
			}
			out.WriteString(`"` + rec[len(rec)-1-i] + `"`)
		}
		out.WriteString("\r\n")
	}
	return out.Bytes()
}
