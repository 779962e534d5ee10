package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// Synthetic histories for the checker: a clean one passes, and each kind
// of damage is caught by the check meant for it, and by no hard check
// that is not.

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// scenario is a small history on two replicas: three acknowledged writes
// to model a (ops 1, 2, 4), one unknown (op 3, not stored), one failed
// (op 5, to model b), and reads that fit.
func scenario() ([]Write, []Read, Final) {
	writes := []Write{
		{ID: 1, Client: 0, Replica: 0, Model: "chaos/a", Invoke: at(0), Complete: at(10), Outcome: OK, ResultID: 101},
		{ID: 2, Client: 1, Replica: 1, Model: "chaos/a", Invoke: at(20), Complete: at(30), Outcome: OK, ResultID: 102},
		{ID: 3, Client: 0, Replica: 0, Model: "chaos/a", Invoke: at(40), Complete: at(5040), Outcome: Unknown, Code: "Unavailable"},
		{ID: 4, Client: 1, Replica: 1, Model: "chaos/a", Invoke: at(6000), Complete: at(6010), Outcome: OK, ResultID: 104},
		{ID: 5, Client: 0, Replica: 0, Model: "chaos/b", Invoke: at(6100), Complete: at(6101), Outcome: Failed, Code: "Unavailable"},
	}
	reads := []Read{
		{Kind: ReadRYW, Replica: 0, Model: "chaos/a", Invoke: at(11), Complete: at(12), OK: true, ResultID: 101, Value: 1, After: 1, Staleness: 0},
		{Kind: ReadRYW, Replica: 1, Model: "chaos/a", Invoke: at(31), Complete: at(32), OK: true, ResultID: 102, Value: 2, After: 2, Staleness: 0},
		{Kind: ReadInfo, Replica: 0, Invoke: at(100), Complete: at(101), OK: true, Revision: 12, Staleness: 0.1},
		{Kind: ReadInfo, Replica: 0, Invoke: at(200), Complete: at(201), OK: true, Revision: 12, Staleness: 0.2},
		{Kind: ReadRating, Replica: 0, Model: "chaos/a", Invoke: at(300), Complete: at(301), OK: true, ResultID: 102, Value: 2, Staleness: 0.3},
		{Kind: ReadHistory, Replica: 1, Model: "chaos/a", Invoke: at(400), Complete: at(420), OK: true, ResultID: 102, Value: 2, Staleness: -1},
		{Kind: ReadRYW, Replica: 1, Model: "chaos/a", Invoke: at(6011), Complete: at(6012), OK: true, ResultID: 104, Value: 4, After: 4, Staleness: 0},
		{Kind: ReadHistory, Replica: 0, Model: "chaos/a", Invoke: at(7000), Complete: at(7020), OK: true, ResultID: 104, Value: 4, Staleness: -1},
	}
	hist := []Entry{{ResultID: 101, Revision: 11, Value: 1}, {ResultID: 102, Revision: 12, Value: 2}, {ResultID: 104, Revision: 14, Value: 4}}
	final := Final{
		History: []map[string][]Entry{{"chaos/a": hist}, {"chaos/a": clone(hist)}},
		Current: []map[string]Entry{{"chaos/a": hist[2]}, {"chaos/a": hist[2]}},
		Listed:  []map[string]Entry{{"chaos/a": hist[2]}, {"chaos/a": hist[2]}},
	}
	return writes, reads, final
}

func clone(es []Entry) []Entry { return append([]Entry(nil), es...) }

// only asserts that exactly the named hard check failed (none when "").
func only(t *testing.T, rep *Report, check string) {
	t.Helper()
	for _, c := range hardChecks {
		if c == check && rep.Counts[c] == 0 {
			t.Errorf("%s: not caught", c)
		}
		if c != check && rep.Counts[c] != 0 {
			t.Errorf("%s: %d false alarms: %v", c, rep.Counts[c], rep.Examples[c])
		}
	}
}

func TestCleanHistoryPasses(t *testing.T) {
	writes, reads, final := scenario()
	rep := Check(writes, reads, final)
	only(t, rep, "")
	if rep.Hard() {
		t.Error("Hard() on a clean history")
	}
	if rep.Acked != 3 || rep.Unknown != 1 || rep.Failed != 1 || rep.Stored != 3 {
		t.Errorf("counts: %+v", rep)
	}
	if rep.Revisions[104] != 14 {
		t.Errorf("revision of result 104: %d", rep.Revisions[104])
	}
}

func TestLostWrite(t *testing.T) {
	writes, reads, final := scenario()
	// Replica 2 lost op 2.
	final.History[1]["chaos/a"] = []Entry{final.History[1]["chaos/a"][0], final.History[1]["chaos/a"][2]}
	rep := Check(writes, reads, final)
	only(t, rep, CheckLost)
	if !rep.LostOps[2] || rep.LostOps[1] {
		t.Errorf("LostOps = %v", rep.LostOps)
	}
	if !strings.Contains(rep.Examples[CheckLost][0].Detail, "op 2") {
		t.Errorf("detail: %s", rep.Examples[CheckLost][0].Detail)
	}
}

func TestLostNewestOnGetRating(t *testing.T) {
	writes, reads, final := scenario()
	// Replica 1's index still shows result 102 at the end.
	final.Current[0]["chaos/a"] = Entry{ResultID: 102, Value: 2}
	rep := Check(writes, reads, final)
	only(t, rep, CheckLost)
}

func TestLostUnderAnotherID(t *testing.T) {
	writes, reads, final := scenario()
	final.History[0]["chaos/a"][1].ResultID = 103
	rep := Check(writes, reads, final)
	if rep.Counts[CheckLost] == 0 {
		t.Error("an acknowledged write stored under another result id is not caught")
	}
}

func TestFinalReadErrorsFail(t *testing.T) {
	writes, reads, final := scenario()
	final.Errors = []string{"r2: GetHistory chaos/a: Unavailable"}
	if rep := Check(writes, reads, final); rep.Counts[CheckLost] == 0 {
		t.Error("final reads that failed pass as if nothing were lost")
	}
}

func TestPhantom(t *testing.T) {
	for name, damage := range map[string]func(*Final){
		"never invoked": func(f *Final) {
			f.History[0]["chaos/a"] = append(f.History[0]["chaos/a"], Entry{ResultID: 105, Revision: 15, Value: 99})
		},
		"undecodable": func(f *Final) {
			f.History[0]["chaos/a"] = append(f.History[0]["chaos/a"], Entry{ResultID: 105, Revision: 15, Value: -1})
		},
		"stored for another model": func(f *Final) {
			f.History[1]["chaos/c"] = []Entry{{ResultID: 105, Value: 3}}
			f.Current[1]["chaos/c"] = Entry{ResultID: 105, Value: 3}
		},
		"failed but stored": func(f *Final) {
			f.History[0]["chaos/b"] = []Entry{{ResultID: 105, Value: 5}}
			f.Current[0]["chaos/b"] = Entry{ResultID: 105, Value: 5}
		},
		"listed model no one submitted": func(f *Final) {
			f.Listed[1]["chaos/zzz"] = Entry{ResultID: 200, Value: 1}
		},
	} {
		t.Run(name, func(t *testing.T) {
			writes, reads, final := scenario()
			damage(&final)
			rep := Check(writes, reads, final)
			if rep.Counts[CheckPhantom] == 0 {
				t.Fatal("not caught")
			}
			for _, c := range []string{CheckRYW, CheckMonotonic} {
				if rep.Counts[c] != 0 {
					t.Errorf("%s: false alarm", c)
				}
			}
		})
	}
}

func TestUnknownWriteStoredIsNoPhantom(t *testing.T) {
	writes, reads, final := scenario()
	e := Entry{ResultID: 105, Revision: 15, Value: 3}
	for r := range final.History {
		final.History[r]["chaos/a"] = append(final.History[r]["chaos/a"], e)
		final.Current[r]["chaos/a"] = e
	}
	only(t, Check(writes, reads, final), "")
}

func TestDuplicate(t *testing.T) {
	writes, reads, final := scenario()
	d := Entry{ResultID: 105, Revision: 15, Value: 2}
	for r := range final.History {
		final.History[r]["chaos/a"] = append(final.History[r]["chaos/a"], d)
		final.Current[r]["chaos/a"] = d
	}
	rep := Check(writes, reads, final)
	only(t, rep, CheckDuplicate)
	if rep.Counts[CheckDuplicate] != 2 { // once per replica
		t.Errorf("duplicates: %d", rep.Counts[CheckDuplicate])
	}
}

func TestReadYourWrites(t *testing.T) {
	writes, reads, final := scenario()
	// The acknowledging replica's next read still shows result 101.
	reads[1].ResultID, reads[1].Value = 101, 1
	rep := Check(writes, reads, final)
	if rep.Counts[CheckRYW] != 1 {
		t.Errorf("read-your-writes violations: %d", rep.Counts[CheckRYW])
	}
	// A model not found at all after the acknowledgement is one too.
	writes, reads, final = scenario()
	reads[0].ResultID, reads[0].Value = 0, 0
	if rep := Check(writes, reads, final); rep.Counts[CheckRYW] != 1 {
		t.Errorf("not found after the ack: %d", rep.Counts[CheckRYW])
	}
}

func TestMonotonicRevision(t *testing.T) {
	writes, reads, final := scenario()
	reads[3].Revision = 11 // after a read that showed 12
	rep := Check(writes, reads, final)
	only(t, rep, CheckMonotonic)
}

func TestMonotonicAcrossRestart(t *testing.T) {
	writes, reads, final := scenario()
	reads[3].Revision, reads[3].Incarnation = 11, 2
	rep := Check(writes, reads, final)
	only(t, rep, CheckMonotonic)
	if !strings.Contains(rep.Examples[CheckMonotonic][0].Detail, "restart") {
		t.Errorf("detail does not say a restart was crossed: %s", rep.Examples[CheckMonotonic][0].Detail)
	}
}

func TestMonotonicCurrentResult(t *testing.T) {
	writes, reads, final := scenario()
	// After r1's read showed result 102, a later one shows 101.
	reads = append(reads, Read{Kind: ReadRating, Replica: 0, Model: "chaos/a", Invoke: at(350), Complete: at(351), OK: true, ResultID: 101, Value: 1, Staleness: 0})
	rep := Check(writes, reads, final)
	only(t, rep, CheckMonotonic)
}

func TestConcurrentReadsMayDisagree(t *testing.T) {
	writes, reads, final := scenario()
	// Overlapping reads may be ordered either way; so may reads of
	// different replicas.
	reads = append(reads,
		Read{Kind: ReadInfo, Replica: 1, Invoke: at(90), Complete: at(500), OK: true, Revision: 14, Staleness: 0},
		Read{Kind: ReadInfo, Replica: 1, Invoke: at(100), Complete: at(110), OK: true, Revision: 13, Staleness: 0},
		Read{Kind: ReadInfo, Replica: 0, Invoke: at(250), Complete: at(260), OK: true, Revision: 12, Staleness: 0},
	)
	only(t, Check(writes, reads, final), "")
}

func TestStalenessUnderstated(t *testing.T) {
	writes, reads, final := scenario()
	// r1, paused, answers at 8 s with revision 12 and says 0.2 s stale;
	// op 4 (revision 14) was acknowledged at 6.01 s: it lagged >= 1.99 s.
	reads = append(reads, Read{Kind: ReadInfo, Replica: 0, Invoke: at(8000), Complete: at(8001), OK: true, Revision: 12, Staleness: 0.2})
	rep := Check(writes, reads, final)
	if len(rep.Understated) != 1 || rep.Understated[0].Read != len(reads)-1 {
		t.Fatalf("understated: %+v", rep.Understated)
	}
	if lag := rep.Understated[0].Lag; lag != 1990*time.Millisecond {
		t.Errorf("lag %s", lag)
	}
	// Saying 2.0 s is honest.
	reads[len(reads)-1].Staleness = 2.0
	if rep := Check(writes, reads, final); len(rep.Understated) != 0 || rep.StaleJudged == 0 {
		t.Errorf("honest header: understated %d, judged %d", len(rep.Understated), rep.StaleJudged)
	}
}

func TestStalenessOfARating(t *testing.T) {
	writes, reads, final := scenario()
	// GetRating at 9 s still shows result 102: it missed op 4 (acked
	// 6.01 s), so it lags >= 2.99 s; the header says 1.0.
	reads = append(reads, Read{Kind: ReadRating, Replica: 0, Model: "chaos/a", Invoke: at(9000), Complete: at(9001), OK: true, ResultID: 102, Value: 2, Staleness: 1.0})
	rep := Check(writes, reads, final)
	if len(rep.Understated) != 1 {
		t.Fatalf("understated: %+v", rep.Understated)
	}
	// The tighter bound (the oldest missing write) counts it too.
	if rep.UnderstatedTight != 1 {
		t.Errorf("tight: %d", rep.UnderstatedTight)
	}
}

func TestMissingBefore(t *testing.T) {
	points := []point{{key: 5, at: at(100)}, {key: 7, at: at(200)}, {key: 6, at: at(300)}, {key: 9, at: at(900)}}
	qs := []query{
		{key: 4, at: at(250)},  // misses 5 and 7: oldest 100, newest 200
		{key: 6, at: at(400)},  // misses 7 only (6 is not above 6)
		{key: 9, at: at(1000)}, // misses nothing
		{key: 0, at: at(50)},   // nothing acknowledged yet
		{key: 5, at: at(1000)}, // misses 7, 6, 9: oldest 200, newest 900
	}
	got := missingBefore(points, qs)
	want := []missing{
		{true, at(200), at(100)},
		{true, at(200), at(200)},
		{},
		{},
		{true, at(900), at(200)},
	}
	for i := range want {
		if got[i].any != want[i].any || !got[i].newest.Equal(want[i].newest) || !got[i].oldest.Equal(want[i].oldest) {
			t.Errorf("query %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestValueEncoding(t *testing.T) {
	type figures struct {
		energy, duration string
		queries          int64
	}
	seen := map[figures]int64{}
	for id := int64(1); id < 3*idsPerBlock+10; id++ {
		// Four significant digits, as the server's fingerprint keeps.
		f := figures{strconv.FormatFloat(energyFor(id), 'g', 4, 64), strconv.FormatFloat(durationFor(id), 'g', 4, 64), queriesFor(id)}
		if prev, dup := seen[f]; dup {
			t.Fatalf("ops %d and %d are the same measurement to four digits: %+v", prev, id, f)
		}
		seen[f] = id
		wh := energyFor(id) / float64(queriesFor(id)) * 1000 // as the server normalises
		if got := valueOf(measuredAt(id), wh); got != id {
			t.Fatalf("valueOf(op %d) = %d", id, got)
		}
		if p := energyFor(id) * 3600 / durationFor(id); p < 149.99 || p > 150.01 {
			t.Fatalf("power of op %d: %f W", id, p)
		}
	}
	if got := valueOf(measuredAt(5), whPer1kFor(6)); got != -1 {
		t.Errorf("a date of op 5 with op 6's figures: %d, want -1", got)
	}
	if got := valueOf(measureBase.Add(-time.Hour), 1); got != -1 {
		t.Errorf("a date before the base: %d, want -1", got)
	}
	if got := valueOf(measuredAt(5).Add(time.Millisecond), whPer1kFor(5)); got != -1 {
		t.Errorf("a date off the second: %d, want -1", got)
	}
}

func TestLinearizable(t *testing.T) {
	writes, reads, _ := scenario()
	if lin := CheckLinearizable(writes, reads, 10*time.Second); lin.Result != porcupine.Ok {
		t.Fatalf("clean history: %s", lin.Result)
	}
	// A GetHistory read after op 4's acknowledgement that shows op 2: stale.
	reads = append(reads, Read{Kind: ReadHistory, Model: "chaos/a", Invoke: at(7100), Complete: at(7110), OK: true, ResultID: 102, Value: 2})
	lin := CheckLinearizable(writes, reads, 10*time.Second)
	if lin.Result != porcupine.Illegal {
		t.Fatalf("stale read: %s", lin.Result)
	}
	if len(lin.Illegal) != 1 || lin.Illegal[0] != "chaos/a" {
		t.Errorf("illegal models: %v", lin.Illegal)
	}
	// The unknown op 3 may take effect late: a read of 3 after op 4 is
	// fine, as long as no later read goes back.
	writes, reads, _ = scenario()
	reads = append(reads, Read{Kind: ReadHistory, Model: "chaos/a", Invoke: at(7100), Complete: at(7110), OK: true, Value: 3})
	if lin := CheckLinearizable(writes, reads, 10*time.Second); lin.Result != porcupine.Ok {
		t.Errorf("late unknown write: %s", lin.Result)
	}
}

func TestSoftTargets(t *testing.T) {
	writes, reads, final := scenario()
	rep := Check(writes, reads, final)
	ev := &Event{N: 1, Kind: FollowerPause, Target: "m2", Hold: 15 * time.Second, Start: at(0), Heal: at(6050), End: at(7000)}
	f := windowFigures(ev, writes, reads, nil, rep, rep.LostOps, 2)
	if f.Submitted != 4 || f.OK != 3 || f.Unknown != 1 {
		t.Errorf("figures: %+v", f)
	}
	ts := softTargets([]*Figures{f}, reads, rep)
	if len(ts) != 1 || ts[0].Pass {
		t.Errorf("a 5 s unknown submission passes the follower-pause target: %+v", ts)
	}
	q := &Event{N: 2, Kind: QuorumKill, Target: "m1+m2", Hold: 12 * time.Second, Start: at(35), Heal: at(12000), End: at(13000)}
	ts = softTargets([]*Figures{windowFigures(q, writes, reads, nil, rep, rep.LostOps, 2)}, reads, rep)
	if len(ts) != 1 || !ts[0].Pass {
		t.Errorf("a write failing after 5 s fails the quorum-loss target: %+v", ts)
	}
	writes[2].Complete = at(9040)
	ts = softTargets([]*Figures{windowFigures(q, writes, reads, nil, rep, rep.LostOps, 2)}, reads, rep)
	if ts[0].Pass {
		t.Errorf("a write failing after 9 s passes the quorum-loss target: %+v", ts)
	}
}
