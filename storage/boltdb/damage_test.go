package boltdb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/storagetest"
)

// wholeDatabase makes a database of 2,000 results in a fresh directory and
// returns the bytes of its file.
func wholeDatabase(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var batch []storage.Accepted
	for i := range 2000 {
		batch = append(batch, storagetest.Accepted(fmt.Sprintf("a/m%d", i), 1+float64(i%97)))
	}
	if _, _, err := s.Append(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	s.Close()
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withFile writes b as the database file of a fresh directory.
func withFile(t *testing.T, b []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

const pageSize = 4096

func TestOpenRefusesDamagedFilesWithoutPanicking(t *testing.T) {
	whole := wholeDatabase(t)
	random := func(seed uint64) []byte {
		b := append([]byte(nil), whole...)
		r := rand.New(rand.NewPCG(seed, 0))
		for i := 2 * pageSize; i < len(b); i++ {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	tests := []struct {
		name string
		file []byte
		want error
		says string
	}{
		{"truncated to 8 KB", whole[:8<<10], ErrDamaged, "truncated"},
		{"truncated to 16 KB", whole[:16<<10], ErrDamaged, "truncated"},
		{"truncated to half", whole[:len(whole)/2], ErrDamaged, "truncated"},
		{"truncated inside a meta page", whole[:100], ErrDamaged, ""},
		{"random after the meta pages", random(1), ErrDamaged, ""},
		{"random after the meta pages, another seed", random(2), ErrDamaged, ""},
		{"random throughout", random(3)[2*pageSize:], ErrDamaged, ""},
		{"empty", nil, ErrEmpty, "0 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := withFile(t, tt.file)
			s, err := Open(dir, Options{})
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			msg := err.Error()
			t.Log(msg)
			if !errors.Is(err, tt.want) || !strings.Contains(msg, tt.says) || !strings.Contains(msg, filepath.Join(dir, FileName)) {
				t.Errorf("Open: %q, want %v saying %q and naming the file", msg, tt.want, tt.says)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("Open: %q is more than one line", msg)
			}
		})
	}
}

func TestAnEmptyFileIsStartedOnlyWithInit(t *testing.T) {
	dir := withFile(t, nil)
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrEmpty) {
		t.Fatalf("Open of an empty file: %v, want ErrEmpty", err)
	}
	s, err := Open(dir, Options{Init: true})
	if err != nil {
		t.Fatalf("Open with Init: %v", err)
	}
	if _, _, err := s.Append(context.Background(), []storage.Accepted{storagetest.Accepted("a/one", 1)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); err != nil {
		t.Error(err)
	}
	s.Close()
}

func TestCheckFileFindsDamageThatOpenDoesNotRead(t *testing.T) {
	whole := wholeDatabase(t)
	rep, err := CheckFile(withFile(t, whole), Options{})
	if err != nil || rep.ProblemCount != 0 || rep.Results != 2000 || rep.Current != 2000 {
		t.Fatalf("a sound file: %+v, %v; want 2000 results and no problem", rep, err)
	}

	// Overwrite the root page of results/, which Open never reads: the
	// read model is rebuilt from latest/.
	dir := withFile(t, whole)
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var root int64
	db.View(func(tx *bolt.Tx) error {
		root = int64(tx.Bucket(bucketResults).RootPage())
		return nil
	})
	db.Close()
	f, err := os.OpenFile(filepath.Join(dir, FileName), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, pageSize)
	for i := range junk {
		junk[i] = byte(i*7 + 3)
	}
	f.WriteAt(junk, root*pageSize)
	f.Close()

	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open: %v; the damage is in a bucket Open does not read", err)
	}
	s.Close()
	rep, err = CheckFile(dir, Options{})
	if err != nil {
		t.Fatalf("CheckFile: %v, want a report", err)
	}
	if rep.ProblemCount == 0 || len(rep.Problems) == 0 {
		t.Errorf("CheckFile found no problem in a file whose results root page is garbage: %+v", rep)
	}
}
