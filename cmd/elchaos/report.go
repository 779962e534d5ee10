package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// The report: Markdown for a person, a few lines for the terminal.

type runResult struct {
	Schedule       Schedule
	Started        time.Time
	Took           time.Duration
	Dir            string
	EtcdVersion    string
	Events         []*Event
	Figures        []*Figures
	Report         *Report
	Lin            Linearizability
	Targets        []Target
	Strict         bool
	Think          time.Duration
	WritersStopped time.Time
	ConvergedAt    time.Time
	ConvergedRev   int64
	ConvergeErr    error
	Writes, Reads  int
	ReadsList      []Read
	FinalErrors    []string
}

// allTargets are the soft targets with the run-wide ones.
func (r *runResult) allTargets() []Target {
	ts := append([]Target(nil), r.Targets...)
	lin := Target{Name: "each model's current result is linearizable (porcupine; writes, and GetHistory reads from etcd)",
		Pass: r.Lin.Result == porcupine.Ok}
	lin.Detail = fmt.Sprintf("%s over %d operations on %d models in %s", r.Lin.Result, r.Lin.Operations, r.Lin.Models, r.Lin.Took.Round(time.Millisecond))
	if len(r.Lin.Illegal) > 0 {
		lin.Detail += "; not linearizable: " + strings.Join(first(r.Lin.Illegal, 5), ", ")
	}
	ts = append(ts, lin)
	conv := Target{Name: "every replica serves etcd's head revision within 10s of the writers stopping", Pass: r.ConvergeErr == nil && r.ConvergedAt.Sub(r.WritersStopped) <= 10*time.Second}
	if r.ConvergeErr != nil {
		conv.Detail = r.ConvergeErr.Error()
	} else {
		conv.Detail = fmt.Sprintf("%.2fs (revision %d)", r.ConvergedAt.Sub(r.WritersStopped).Seconds(), r.ConvergedRev)
	}
	ts = append(ts, conv)
	return ts
}

func (r *runResult) softFailed() int {
	n := 0
	for _, t := range r.allTargets() {
		if !t.Pass {
			n++
		}
	}
	return n
}

func (r *runResult) exitCode() int {
	if r.Report.Hard() || (r.Strict && r.softFailed() > 0) {
		return 1
	}
	return 0
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func first[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func ms(d time.Duration) string {
	if d < 0 {
		return "–"
	}
	if d < 10*time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func secs(d time.Duration) string {
	if d < 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", d.Seconds())
}

func (r *runResult) summary() string {
	var b strings.Builder
	rep := r.Report
	fmt.Fprintf(&b, "%d submissions: %d acknowledged, %d failed, %d unknown; %d results stored; %d reads\n",
		rep.Writes, rep.Acked, rep.Failed, rep.Unknown, rep.Stored, r.Reads)
	for _, c := range hardChecks {
		fmt.Fprintf(&b, "%s  %-18s %d\n", passFail(rep.Counts[c] == 0), c, rep.Counts[c])
	}
	for _, t := range r.allTargets() {
		fmt.Fprintf(&b, "%s  soft: %s — %s\n", passFail(t.Pass), t.Name, t.Detail)
	}
	verdict := "PASS"
	if r.exitCode() != 0 {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "%s (hard checks %s; %d soft target(s) failed%s)\n", verdict, passFail(!rep.Hard()), r.softFailed(),
		map[bool]string{true: ", -strict", false: ", not fatal without -strict"}[r.Strict])
	return b.String()
}

func (r *runResult) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	rep := r.Report
	p("# energylabel chaos run: %s schedule, %s\n\n", r.Schedule.Name, r.Started.Format("2006-01-02 15:04 MST"))
	verdict := "PASS"
	if r.exitCode() != 0 {
		verdict = "FAIL"
	}
	p("**%s**: hard checks %s; %d of %d soft targets failed (%s). Took %s.\n\n", verdict, passFail(!rep.Hard()),
		r.softFailed(), len(r.allTargets()), map[bool]string{true: "-strict: they fail the run", false: "not fatal without -strict"}[r.Strict],
		r.Took.Round(time.Second))

	p("## What ran\n\n")
	p("- Three etcd members (%s) and three `energylabeld -etcd` replicas (r1–r3), each process in its own network namespace, joined by a veth pair to a client bridge in the root namespace where `elchaos` and its clients run; the members' peer (Raft) traffic goes over a second bridge. A partition takes the process's bridge ports down: its packets are dropped both ways. A peer partition takes only a member's peer port down: it loses its quorum, but the replicas still reach it.\n", r.EtcdVersion)
	p("- %d writers in %d pairs; each pair shares %d models at a time (new ones every 10 s), so that two writers race on each model. A writer starts a submission every %s (at most %d of its own waiting), each to the next replica in turn, with figures of its own (a different measurement to the server's fingerprint; its operation number is its measurement date, and its energy confirms it); each is recorded with its invocation and completion times as acknowledged, failed (certainly not stored) or unknown; each acknowledgement is followed by GetRating of the model on the acknowledging replica.\n", writers, groups, modelsPerGroup, r.Think, maxInFlight)
	p("- Per replica, %d readers each starting a read every %s whether or not earlier ones were answered (GetServerInfo's revision, or GetRating of a recent model; each with its staleness header); %d readers of GetHistory (which reads etcd) through any replica; a /healthz poll of each replica every 200 ms.\n", infoReaders, readEvery, historyReaders)
	p("- %d submissions, %d reads. The faults ran one after another with steady running between (timeline below). Then every process was resumed, restarted and rejoined, the writers stopped, and every replica's ListRatings, GetRating and GetHistory of every model were read.\n\n", r.Writes, r.Reads)

	p("## Hard checks\n\n")
	p("| check | result | violations |\n|---|---|---|\n")
	desc := map[string]string{
		CheckLost:      "every acknowledged write is in every replica's GetHistory under its result id, and every replica's GetRating shows each model's newest result",
		CheckPhantom:   "everything stored encodes a submission some client invoked on that model, and none that certainly failed",
		CheckDuplicate: "no submission stored twice",
		CheckRYW:       "after an acknowledgement, the acknowledging replica's GetRating shows that result or a newer one",
		CheckMonotonic: "per replica, a read started after another finished never shows an older revision or an older current result",
	}
	for _, c := range hardChecks {
		p("| %s: %s | %s | %d |\n", c, desc[c], passFail(rep.Counts[c] == 0), rep.Counts[c])
	}
	p("\nSubmissions: %d acknowledged, %d failed, %d unknown; %d results stored (r1's histories).\n\n", rep.Acked, rep.Failed, rep.Unknown, rep.Stored)
	for _, c := range hardChecks {
		if len(rep.Examples[c]) == 0 {
			continue
		}
		p("%s (%d):\n\n", c, rep.Counts[c])
		for _, v := range rep.Examples[c] {
			p("- %s\n", v.Detail)
		}
		p("\n")
	}

	p("## Soft targets\n\n")
	for _, t := range r.allTargets() {
		p("- **%s** %s — %s\n", passFail(t.Pass), t.Name, t.Detail)
	}
	p("\n")

	p("## Faults\n\n")
	p("Submissions are those invoked between the fault's start and its heal; latencies are the client's, which gives up after 15 s (a submission it gave up on is unknown, at 15.0 s). \"first failure\" is the first submission that did not succeed after the start; \"converged\" is the time after the heal until every replica's GetServerInfo showed the newest revision acknowledged by then; \"staleness\" counts reads (invoked from the start to 5 s after the heal) that missed an acknowledged write, and how many of them under-reported.\n\n")
	p("| # | fault | target | hold | submitted | OK | failed | unknown | p50 | p99 | max | first failure | converged | staleness under/judged |\n")
	p("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, f := range r.Figures {
		ev := f.Event
		p("| %d | %s | %s | %s | %d | %d | %d | %d | %s | %s | %s | %s | %s | %d/%d |\n", ev.N, ev.Kind, ev.Target,
			(ev.Heal.Sub(ev.Start)).Round(100*time.Millisecond), f.Submitted, f.OK, f.Failed, f.Unknown,
			ms(f.P50), ms(f.P99), ms(f.Max), ms(f.FirstFailure), ms(f.Converged), f.Understated, f.Judged)
	}
	p("\n/healthz per replica, from the fault's start to the next one's: seconds after the start of the first 503 (NOT_SERVING), seconds answering 503, seconds not answering at all, seconds after the heal until 200 again.\n\n")
	p("| # | fault |")
	for i := range r.Figures[0].Replicas {
		p(" r%d first 503 / 503 s / silent s / 200 again |", i+1)
	}
	p("\n|---|---|")
	for range r.Figures[0].Replicas {
		p("---|")
	}
	p("\n")
	for _, f := range r.Figures {
		p("| %d | %s |", f.Event.N, f.Event.Kind)
		for _, h := range f.Replicas {
			p(" %s / %s / %s / %s |", secs(h.FirstNotServing), secs(h.NotServing), secs(h.NoAnswer), secs(h.ServingAgain))
		}
		p("\n")
	}
	p("\n")
	for _, f := range r.Figures {
		if f.Event.Kind == QuorumKill || f.Event.Kind == QuorumPause {
			p("Quorum loss #%d: first failed submission %s after the loss; slowest unsuccessful submission %s; replicas' first NOT_SERVING after",
				f.Event.N, ms(f.FirstFailure), ms(f.FailLatencyMax))
			for i, h := range f.Replicas {
				p(" r%d %s,", i+1, ms(h.FirstNotServing))
			}
			p(" back to 200 after the heal")
			for i, h := range f.Replicas {
				p(" r%d %s,", i+1, ms(h.ServingAgain))
			}
			p("\n\n")
		}
	}

	p("## Staleness\n\n")
	p("A read that misses an acknowledged write (its revision, or its model's current result id, is below the write's) must report at least the time since the newest such write was acknowledged, less %s (the header is floored to a tenth). %d reads could be judged; %d under-reported by that bound, %d by the tighter bound of the oldest missing write.\n\n",
		StalenessTolerance, rep.StaleJudged, len(rep.Understated), rep.UnderstatedTight)
	if len(rep.Understated) > 0 {
		p("| read | replica | invoked | during | header | lagged at least | tight bound |\n|---|---|---|---|---|---|---|\n")
		for _, u := range first(rep.Understated, 15) {
			rd := r.ReadsList[u.Read]
			p("| %s | r%d | %s | %s | %.1f s | %.2f s | %.2f s |\n", rd.Kind, rd.Replica+1, clock(rd.Invoke), r.during(rd.Invoke), u.Header, u.Lag.Seconds(), u.TightLag.Seconds())
		}
		if len(rep.Understated) > 15 {
			p("\n(%d more in reads.json.)\n", len(rep.Understated)-15)
		}
	}
	p("\n## Linearizability\n\nporcupine v1.3.1, a register per model: acknowledged submissions (unknown ones may take effect any time after their invocation) and successful GetHistory reads. Result: **%s**, %d operations on %d models, %s.\n\n",
		r.Lin.Result, r.Lin.Operations, r.Lin.Models, r.Lin.Took.Round(time.Millisecond))
	if len(r.Lin.Illegal) > 0 {
		p("Not linearizable: %s\n\n", strings.Join(first(r.Lin.Illegal, 20), ", "))
	}

	p("## End\n\n")
	if r.ConvergeErr != nil {
		p("The replicas did not converge: %v\n\n", r.ConvergeErr)
	} else {
		p("Every replica answered 200 and showed etcd's head revision %d %.2f s after the writers stopped.\n\n", r.ConvergedRev, r.ConvergedAt.Sub(r.WritersStopped).Seconds())
	}
	if len(r.FinalErrors) > 0 {
		p("Final reads that failed: %d; first: %s\n\n", len(r.FinalErrors), r.FinalErrors[0])
	}

	p("## Timeline\n\n")
	for _, ev := range r.Events {
		p("- #%d %s %s → %s: %s on %s", ev.N, clock(ev.Start), clock(ev.Heal), clock(ev.End), ev.Kind, ev.Target)
		if len(ev.Notes) > 0 {
			p(" (%s)", strings.Join(ev.Notes, "; "))
		}
		p("\n")
	}
	p("\nFiles in %s: writes.json, reads.json, health.json, final.json, events.json (the history), logs/ (each process's output), elchaos.log.\n", r.Dir)
	return b.String()
}

// during names the fault in effect at t (or whose heal came less than 5 s
// before it).
func (r *runResult) during(t time.Time) string {
	name := "–"
	for _, ev := range r.Events {
		if !t.Before(ev.Start) {
			name = fmt.Sprintf("#%d %s", ev.N, ev.Kind)
			if t.After(ev.Heal.Add(5 * time.Second)) {
				name += " (after)"
			}
		}
	}
	return name
}
