package main

import (
	"context"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

func TestDemoServesTheBundledLeaderboardWithItsRelease(t *testing.T) {
	addrs := freeAddrs(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"-demo", "-grpc", addrs[0], "-http", addrs[1]}, io.Discard, io.Discard)
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("the demo server did not stop")
		}
	}()
	conn, err := grpc.NewClient(addrs[0], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if !serving(conn) {
		t.Fatal("the demo server did not start")
	}
	rs := energylabelv1.NewRatingServiceClient(conn)
	rels, err := rs.ListReleases(ctx, &energylabelv1.ListReleasesRequest{})
	if err != nil || len(rels.GetReleases()) != 1 || rels.GetReleases()[0].GetName() != "aies-2025-02" || rels.GetReleases()[0].GetModels() != 164 {
		t.Fatalf("releases = %v, %v; want aies-2025-02 over 164 models", rels, err)
	}
	resp, err := rs.GetRating(ctx, &energylabelv1.GetRatingRequest{Model: "openai/whisper-large-v3"})
	if err != nil {
		t.Fatal(err)
	}
	// Published: 1 star, the worst of 13 ASR models.
	if r := resp.GetRatings()[0]; r.GetStars() != 1 || r.GetRelease() != "aies-2025-02" || r.GetGrade() != "G" {
		t.Errorf("whisper-large-v3: %d stars of %q, grade %q; want 1 star of aies-2025-02, grade G", r.GetStars(), r.GetRelease(), r.GetGrade())
	}
}
