package main

import (
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

func TestDemoServesTheBundledLeaderboardWithItsRelease(t *testing.T) {
	addr, _, _ := startDemo(t)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := t.Context()
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
