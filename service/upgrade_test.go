package service_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/storage/boltdb"
)

// TestADataDirectoryFromBeforeTheSeamServesAsBefore starts a server on the
// database file the store wrote before the storage seam (schema 3; see
// storage/boltdb/testdata/README.md): every rating is there, with the
// stars of its release, and the server takes new results.
func TestADataDirectoryFromBeforeTheSeamServesAsBefore(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../storage/boltdb/testdata/schema3.db")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, boltdb.FileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := servertest.StartWith(t, servertest.Options{DataDir: dir})
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	total, starred := 0, 0
	tasks, err := rs.ListTasks(context.Background(), &energylabelv1.ListTasksRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks.GetTasks() {
		for _, r := range servertest.ListAll(t, rs, &energylabelv1.ListRatingsRequest{Task: task.GetId()}) {
			total++
			if r.GetStars() > 0 && r.GetRelease() == "aies-2025-02" {
				starred++
			}
		}
	}
	if total != 165 || starred != 165 {
		t.Errorf("%d ratings, %d with stars of aies-2025-02; want 165 and 165", total, starred)
	}
	whisper, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: "openai/whisper-large-v3"})
	if err != nil || whisper.GetRatings()[0].GetStars() != 1 || whisper.GetRatings()[0].GetGrade() != "G" {
		t.Errorf("whisper-large-v3: %v, %v; want 1 star and G as published", whisper, err)
	}
	h, err := rs.GetHistory(context.Background(), &energylabelv1.GetHistoryRequest{Model: "acme/clf"})
	if err != nil || len(h.GetEntries()) != 2 {
		t.Errorf("history of acme/clf: %v, %v", h, err)
	}
	if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/new", 0.9)}); err != nil {
		t.Errorf("a submission after the upgrade: %v", err)
	}
}
