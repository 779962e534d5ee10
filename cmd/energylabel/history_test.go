package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

func TestHistoryShowsEachResultWithTheGradeItHad(t *testing.T) {
	srv := servertest.Start(t)
	admin := []string{"-addr", srv.Addr, "-token", srv.AdminToken}
	dir := t.TempDir()
	for i, wh := range []string{"0.9", "0.3", "2.5"} {
		f := writeResult(t, dir, "r"+wh+".json", `"gpu_energy_wh": 0.9`, `"gpu_energy_wh": `+wh, `"duration_seconds": 41.5`, `"duration_seconds": 20`)
		if code, _, stderr := cli(t, append(admin, "submit", f)...); code != 0 {
			t.Fatalf("submission %d: %s", i, stderr)
		}
	}
	code, stdout, stderr := cli(t, "-addr", srv.Addr, "history", "acme/tiny-clf")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) != 4 {
		t.Fatalf("history: exit %d, %d lines:\n%s%s", code, len(lines), stdout, stderr)
	}
	// Oldest first, each with its grade: F (EEI 1.12), D (0.37), G (3.1).
	for i, want := range []string{"F", "D", "G"} {
		if f := strings.Fields(lines[i+1]); len(f) < 9 || f[3] != "result" || f[8] != want {
			t.Errorf("entry %d: %q, want grade %s", i, lines[i+1], want)
		}
	}
	code, stdout, _ = cli(t, "-addr", srv.Addr, "-json", "history", "acme/tiny-clf", "-task", "text_classification")
	if code != 0 || strings.Count(stdout, "\n") != 3 || !strings.Contains(stdout, `"grade":"F"`) {
		t.Errorf("history -json:\n%s", stdout)
	}
}

func TestWatchPrintsASubmissionAtOnce(t *testing.T) {
	srv := servertest.Start(t)
	var out, errOut servertest.SyncBuffer // the watch writes while the test reads
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"-addr", srv.Addr, "watch", "-task", "text-classification"}, &out, &errOut)
	}()
	time.Sleep(200 * time.Millisecond) // the watch starts from now
	f := writeResult(t, t.TempDir(), "r.json")
	start := time.Now()
	if code, _, stderr := cli(t, "-addr", srv.Addr, "-token", srv.AdminToken, "submit", f); code != 0 {
		t.Fatal(stderr)
	}
	for !strings.Contains(out.String(), "acme/tiny-clf") {
		if time.Since(start) > time.Second {
			t.Fatalf("no event within 1 s of the submission; stdout %q, stderr %q", out.String(), errOut.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if line := out.String(); !strings.HasPrefix(line, "revision ") || !strings.Contains(line, "grade F") {
		t.Errorf("watch printed %q", line)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("watch exited %d after an interrupt: %s", code, errOut.String())
	}
}

func TestWatchResumesWhatTheServerEnded(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, true},
		{grpcstatus.Error(codes.DeadlineExceeded, "the watch reached its maximum age"), true},
		{fmt.Errorf("watch: %w", grpcstatus.Error(codes.ResourceExhausted, "fell behind")), true},
		{grpcstatus.Error(codes.Unavailable, "shutting down"), true},
		{grpcstatus.Error(codes.OutOfRange, "revision compacted"), false},
		{grpcstatus.Error(codes.InvalidArgument, "bad task"), false},
	} {
		if got := watchResumes(c.err); got != c.want {
			t.Errorf("%v: resumes %v, want %v", c.err, got, c.want)
		}
	}
}

// A watch resuming from a revision the server no longer keeps prints the
// current ratings, then watches on, rather than ending.
func TestWatchThroughACompactedRevisionPrintsTheCurrentRatings(t *testing.T) {
	srv := servertest.StartWith(t, servertest.Options{EventRetention: 2})
	admin := []string{"-addr", srv.Addr, "-token", srv.AdminToken}
	dir := t.TempDir()
	for _, wh := range []string{"0.9", "0.3", "2.5", "0.8"} {
		f := writeResult(t, dir, "r"+wh+".json", `"gpu_energy_wh": 0.9`, `"gpu_energy_wh": `+wh, `"duration_seconds": 41.5`, `"duration_seconds": 20`)
		if code, _, stderr := cli(t, append(admin, "submit", f)...); code != 0 {
			t.Fatal(stderr)
		}
	}
	var out, errOut servertest.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"-addr", srv.Addr, "watch", "-from", "1", "-task", "text-classification"}, &out, &errOut)
	}()
	waitFor := func(what string) {
		t.Helper()
		for start := time.Now(); !strings.Contains(out.String(), what); time.Sleep(5 * time.Millisecond) {
			if time.Since(start) > 5*time.Second {
				t.Fatalf("no %q within 5 s; stdout %q, stderr %q", what, out.String(), errOut.String())
			}
		}
	}
	waitFor("current  acme/tiny-clf")
	if !strings.Contains(errOut.String(), "no longer keeps the changes after revision 1") {
		t.Errorf("stderr does not say why: %q", errOut.String())
	}
	// And it watches on.
	f := writeResult(t, dir, "r5.json", `"model": "acme/tiny-clf"`, `"model": "acme/other-clf"`)
	if code, _, stderr := cli(t, append(admin, "submit", f)...); code != 0 {
		t.Fatal(stderr)
	}
	waitFor("result  acme/other-clf")
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("watch exited %d: %s", code, errOut.String())
	}
}

// A watch resumed before the last revision it printed prints the rest of
// that revision, and nothing twice.
func TestAResumedWatchPrintsARevisionsRestOnce(t *testing.T) {
	result := func(rev int64, id uint64) *energylabelv1.RatingEvent {
		return &energylabelv1.RatingEvent{Revision: rev, Kind: energylabelv1.RatingEvent_KIND_RESULT, Rating: &energylabelv1.Rating{ResultId: id}}
	}
	var seen revisionSeen
	for _, c := range []struct {
		ev   *energylabelv1.RatingEvent
		want bool
	}{
		{result(5, 1), true}, {result(5, 2), true},
		// The watch ended within revision 5 and resumed after 4.
		{result(5, 1), false}, {result(5, 2), false}, {result(5, 3), true},
		{&energylabelv1.RatingEvent{Revision: 6, Kind: energylabelv1.RatingEvent_KIND_RELEASE}, true},
		{&energylabelv1.RatingEvent{Revision: 6, Kind: energylabelv1.RatingEvent_KIND_RELEASE}, false},
		{result(4, 9), false}, {result(7, 1), true},
	} {
		if got := seen.first(c.ev); got != c.want {
			t.Errorf("revision %d result %d: new %v, want %v", c.ev.GetRevision(), c.ev.GetRating().GetResultId(), got, c.want)
		}
	}
}
