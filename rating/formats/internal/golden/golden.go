// Package golden compares what a parser gives with a file in testdata, and
// rewrites the file when a test runs with -update.
package golden

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// Check compares v, as indented JSON, with the golden file at path, or
// writes it there when update is set.
func Check(t testing.TB, path string, v any, update bool) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the parser gives (go test -update rewrites it); got:\n%s", path, got)
	}
}
