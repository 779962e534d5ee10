package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/rating"
)

// downgradeToV1 rewrites a closed store's file as schema version 1 wrote
// it: latest/ holds result ids.
func downgradeToV1(t *testing.T, dir string) {
	t.Helper()
	db, err := bolt.Open(dir+"/"+FileName, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		lb := tx.Bucket(bucketLatest)
		var keys, ids [][]byte
		lb.ForEach(func(k, v []byte) error {
			var l storev1.Latest
			if err := proto.Unmarshal(v, &l); err != nil {
				return err
			}
			keys, ids = append(keys, append([]byte(nil), k...)), append(ids, u64(l.ResultId))
			return nil
		})
		for i := range keys {
			if err := lb.Put(keys[i], ids[i]); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keyVersion, u64(1))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSchema1IsMigratedToSchema2(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		submit(t, s, fmt.Sprintf("m/%02d", i%12), float64(i+1))
	}
	before := fmt.Sprint(s.ListCohort(clf, nil, 100))
	s.Close()
	downgradeToV1(t, dir)

	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if after := fmt.Sprint(s.ListCohort(clf, nil, 100)); after != before {
		t.Errorf("index after migration:\n%s\nwant\n%s", after, before)
	}
	s.db.View(func(tx *bolt.Tx) error {
		if v := binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keyVersion)); v != schemaVersion {
			t.Errorf("schema version %d after migration, want %d", v, schemaVersion)
		}
		return nil
	})
	// A second open finds nothing to migrate and the same index.
	s.Close()
	s = openTest(t, dir)
	if again := fmt.Sprint(s.ListCohort(clf, nil, 100)); again != before {
		t.Errorf("index after a second open:\n%s\nwant\n%s", again, before)
	}
}

func TestANewerSchemaIsRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyVersion, u64(schemaVersion+1)) })
	s.Close()
	if _, err := Open(dir, Options{}); err == nil {
		t.Error("a file of a newer schema opened")
	}
}

// downgradeToV2 rewrites a closed store's file as schema version 2 wrote
// it: no payloads/, registries or releases.
func downgradeToV2(t *testing.T, dir string) {
	t.Helper()
	db, err := bolt.Open(dir+"/"+FileName, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketPayloads, bucketAccelerators, bucketDatasets, bucketReleases} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keyVersion, u64(2))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSchema2GainsThePayloadIndex(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sha := strings.Repeat("cd", 32)
	r := rating.Result{Model: "a/one", Task: "text-classification", Accelerator: "H100", Queries: 1000, GPUEnergyWh: 1}
	if _, err := s.Submit(context.Background(), &r, rating.MeasureOf(&r), Audit{PayloadSHA256: sha}); err != nil {
		t.Fatal(err)
	}
	before := fmt.Sprint(s.ListCohort(clf, nil, 100))
	s.Close()
	downgradeToV2(t, dir)

	s = openTest(t, dir)
	if after := fmt.Sprint(s.ListCohort(clf, nil, 100)); after != before {
		t.Errorf("index after migration:\n%s\nwant\n%s", after, before)
	}
	other := r
	other.Model = "b/two"
	if _, err := s.Submit(context.Background(), &other, rating.MeasureOf(&other), Audit{PayloadSHA256: sha}); !errors.Is(err, ErrExists) {
		t.Errorf("a payload stored under schema 2, submitted for another model: %v, want ErrExists", err)
	}
}
