package service

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/calibration"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/boltdb"
)

// FuzzPageToken feeds arbitrary page tokens, which clients send back to us,
// to ListRatings' paging: a page or an InvalidArgument, never a panic.
func FuzzPageToken(f *testing.F) {
	st, err := boltdb.Open(f.TempDir(), boltdb.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	scheme, err := calibration.Grade2025_1()
	if err != nil {
		f.Fatal(err)
	}
	s, err := New(Config{Backend: st, Schemes: []*rating.GradeScheme{scheme}})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	for _, m := range []string{"a/x", "a/y", "a/z"} {
		r := rating.Result{Model: m, Task: "asr", Accelerator: "H100", Queries: 1000, GPUEnergyWh: float64(len(m))}
		if _, err := s.Submit(context.Background(), &r, rating.Published, storage.Audit{}); err != nil {
			f.Fatal(err)
		}
	}
	filter, _ := parseFilter(rating.Builtin(), "asr", "", "", "")
	first, _ := s.List(filter, "", 1)
	f.Add(first.Next)
	f.Add("")
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"c":{"Task":"asr"},"x":1e308,"m":"\u0000"}`)))
	f.Fuzz(func(t *testing.T, token string) {
		page, err := s.List(filter, token, 2)
		if err != nil && !errors.Is(err, rating.ErrInvalid) {
			t.Fatalf("List: %v", err)
		}
		if len(page.Ratings) > 2 {
			t.Fatalf("page of %d, asked for 2", len(page.Ratings))
		}
	})
}
