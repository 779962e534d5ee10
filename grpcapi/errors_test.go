package grpcapi

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/energylabel/energylabel/errdefs"
)

func TestClipBoundsAndCleansText(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"short ASCII is kept as it is", "model: not of the form owner/name", 64, "model: not of the form owner/name"},
		{"control characters become U+FFFD", "a\x1b[31mb\x00", 64, "a\uFFFD[31mb\uFFFD"},
		{"invalid UTF-8 becomes U+FFFD", "a\xffb", 64, "a\uFFFDb"},
		{"bidi overrides become U+FFFD", "a\u202eb", 64, "a\uFFFDb"},
		{"long text is cut and says how long it was", strings.Repeat("x", 100), 10, "xxxxxxxxxx… (100 bytes in all)"},
		{"a cut never splits a rune", "ééééé", 5, "éé… (10 bytes in all)"},
		{"replacements count towards the bound", strings.Repeat("\x01", 10), 6, "\uFFFD\uFFFD… (10 bytes in all)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errdefs.Clip(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("errdefs.Clip(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("errdefs.Clip(%q) = %q is not valid UTF-8", tt.in, got)
			}
		})
	}
}

func FuzzClip(f *testing.F) {
	f.Add("a\x1b[31m\xff\u202e", 8)
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = max & 1023
		got := errdefs.Clip(s, max)
		if !utf8.ValidString(got) {
			t.Fatalf("errdefs.Clip(%q, %d) = %q is not valid UTF-8", s, max, got)
		}
		body, _, _ := strings.Cut(got, "… (")
		if len(body) > max {
			t.Fatalf("errdefs.Clip(%q, %d) keeps %d bytes", s, max, len(body))
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("errdefs.Clip(%q) = %q keeps a control character", s, got)
			}
		}
	})
}

func TestSubmissionReasonsAreAFixedSet(t *testing.T) {
	for field, want := range map[string]string{
		"gpu_energy_wh":              "gpu_energy_wh",
		"hardware.accelerator":       "hardware.accelerator",
		"tool.name":                  "tool.name",
		"output.tokens":              "output.tokens",
		"payload_sha256":             "payload_sha256",
		"run_energies_wh[12]":        "run_energies_wh",
		"run_energies_wh[9999999]":   "run_energies_wh",
		"run_energies_wh[":           "other",
		"results[3].gpu_energy_wh":   "other",
		"caller-chosen \x1b[31m":     "other",
		strings.Repeat("x", 1000):    "other",
		"measured_at.seconds":        "other",
		"":                           "other",
		"hardware.accelerator[0]":    "hardware.accelerator",
		"output.tokens[1].images[2]": "other",
		"measured_at":                "measured_at",
		"result":                     "result",
		"model":                      "model",
		"run_energies_wh[1][2]":      "run_energies_wh",
		"run_energies_wh[1]x":        "other",
		"hardware[0].accelerator":    "hardware.accelerator",
		"result.gpu_energy_wh":       "result.gpu_energy_wh",
		"result.run_energies_wh[3]":  "result.run_energies_wh",
		"namespaces":                 "other",
		"scheme":                     "other",
	} {
		if got := submissionReason(field); got != want {
			t.Errorf("submissionReason(%q) = %q, want %q", field, got, want)
		}
	}
}
