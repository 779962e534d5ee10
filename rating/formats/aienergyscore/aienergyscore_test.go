package aienergyscore_test

import (
	"errors"
	"strings"
	"testing"

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
