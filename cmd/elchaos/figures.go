package main

import (
	"fmt"
	"slices"
	"time"
)

// Per-fault figures and the soft targets, computed from the history.

// Figures are one fault's.
type Figures struct {
	Event               *Event
	Submitted           int
	OK, Failed, Unknown int
	P50, P99, Max       time.Duration
	FirstFailure        time.Duration // first non-OK completion after the start; -1 when none
	FailLatencyMax      time.Duration // slowest non-OK submission that overlapped the fault
	Replicas            []ReplicaHealth
	Converged           time.Duration // after heal, until every replica showed every write acknowledged by then; -1 when not seen
	Judged, Understated int           // staleness: reads judged, and understated, in [start, heal+5s]
	Lost                int           // acknowledged writes invoked in the window that are lost
}

// ReplicaHealth is one replica's /healthz during a fault.
type ReplicaHealth struct {
	FirstNotServing time.Duration // after the start; -1 when it never said 503
	NotServing      time.Duration // total time answering 503
	NoAnswer        time.Duration // total time not answering at all
	ServingAgain    time.Duration // after heal, until it answered 200; -1 when not seen
}

func (f *Figures) okRatio() float64 {
	if f.Submitted == 0 {
		return 1
	}
	return float64(f.OK) / float64(f.Submitted)
}

// percentile of sorted durations.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(p/100*float64(len(d))+0.5) - 1
	return d[max(0, min(len(d)-1, i))]
}

// windowFigures computes the figures of submissions invoked in [from, to],
// of health in [from, end], and the rest, for one fault (or the baseline,
// ev.Start = from, ev.Heal = to).
func windowFigures(ev *Event, writes []Write, reads []Read, health []Health, rep *Report, lost map[int64]bool, replicas int) *Figures {
	f := &Figures{Event: ev, FirstFailure: -1, Converged: -1}
	var lat []time.Duration
	for _, w := range writes {
		if w.Complete.After(ev.Start) && w.Outcome != OK {
			if f.FirstFailure < 0 || w.Complete.Sub(ev.Start) < f.FirstFailure {
				if w.Complete.Before(ev.Heal) {
					f.FirstFailure = w.Complete.Sub(ev.Start)
				}
			}
			if w.Invoke.Before(ev.Heal) {
				f.FailLatencyMax = max(f.FailLatencyMax, w.Latency())
			}
		}
		if w.Invoke.Before(ev.Start) || w.Invoke.After(ev.Heal) {
			continue
		}
		f.Submitted++
		switch w.Outcome {
		case OK:
			f.OK++
		case Failed:
			f.Failed++
		default:
			f.Unknown++
		}
		if lost[w.ID] {
			f.Lost++
		}
		lat = append(lat, w.Latency())
	}
	slices.Sort(lat)
	f.P50, f.P99 = percentile(lat, 50), percentile(lat, 99)
	if len(lat) > 0 {
		f.Max = lat[len(lat)-1]
	}

	end := ev.End
	if end.IsZero() {
		end = ev.Heal.Add(10 * time.Second)
	}
	for r := range replicas {
		h := ReplicaHealth{FirstNotServing: -1, ServingAgain: -1}
		var samples []Health
		for _, s := range health {
			if s.Replica == r && !s.At.Before(ev.Start) && !s.At.After(end) {
				samples = append(samples, s)
			}
		}
		slices.SortFunc(samples, func(a, b Health) int { return a.At.Compare(b.At) })
		bad := false
		for i, s := range samples {
			next := end
			if i+1 < len(samples) {
				next = samples[i+1].At
			}
			switch s.Status {
			case 200:
				if !s.At.Before(ev.Heal) && h.ServingAgain < 0 && bad {
					h.ServingAgain = s.At.Sub(ev.Heal)
				}
			case 0:
				h.NoAnswer += next.Sub(s.At)
				bad = true
			default:
				h.NotServing += next.Sub(s.At)
				if h.FirstNotServing < 0 {
					h.FirstNotServing = s.At.Sub(ev.Start)
				}
				bad = true
			}
		}
		f.Replicas = append(f.Replicas, h)
	}

	// Convergence: the newest revision acknowledged by heal time, shown
	// by every replica.
	var target int64
	for _, w := range writes {
		if w.Outcome == OK && !w.Complete.After(ev.Heal) {
			target = max(target, rep.Revisions[w.ResultID])
		}
	}
	if target > 0 {
		conv := time.Duration(0)
		for r := range replicas {
			seen := time.Duration(-1)
			for _, rd := range reads {
				if rd.Kind == ReadInfo && rd.OK && rd.Replica == r && !rd.Invoke.Before(ev.Heal) && rd.Revision >= target {
					if d := rd.Complete.Sub(ev.Heal); seen < 0 || d < seen {
						seen = d
					}
				}
			}
			if seen < 0 {
				conv = -1
				break
			}
			conv = max(conv, seen)
		}
		f.Converged = conv
	}

	under := map[int]bool{}
	for _, u := range rep.Understated {
		under[u.Read] = true
	}
	judged := judgedReads(rep)
	for i, rd := range reads {
		if rd.Invoke.Before(ev.Start) || rd.Invoke.After(ev.Heal.Add(5*time.Second)) {
			continue
		}
		if judged[i] {
			f.Judged++
		}
		if under[i] {
			f.Understated++
		}
	}
	return f
}

// judgedReads are the reads the staleness check could judge.
func judgedReads(rep *Report) map[int]bool { return rep.judged }

// Target is one soft target's verdict.
type Target struct {
	Name   string
	Pass   bool
	Detail string
}

// softTargets judges the soft targets over the faults that bear on them.
func softTargets(figs []*Figures, reads []Read, rep *Report) []Target {
	var out []Target
	under := map[int]bool{}
	for _, u := range rep.Understated {
		under[u.Read] = true
	}
	for _, f := range figs {
		ev := f.Event
		switch ev.Kind {
		case FollowerPause:
			pass := f.okRatio() >= 0.99 && f.P99 <= 2*time.Second
			out = append(out, Target{
				Name: fmt.Sprintf("#%d follower %s paused %s: >= 99%% submissions OK, p99 <= 2s", ev.N, ev.Target, ev.Hold),
				Pass: pass,
				Detail: fmt.Sprintf("%d/%d OK (%.1f%%), p99 %s, max %s", f.OK, f.Submitted, 100*f.okRatio(),
					f.P99.Round(time.Millisecond), f.Max.Round(time.Millisecond)),
			})
		case ReplicaPause:
			r := -1
			fmt.Sscanf(ev.Target, "r%d", &r)
			r--
			judged, bad := 0, 0
			var worst string
			for i, rd := range reads {
				if rd.Replica != r || rd.Invoke.Before(ev.Start) || rd.Invoke.After(ev.Heal.Add(5*time.Second)) {
					continue
				}
				if rep.judged[i] {
					judged++
				}
				if under[i] {
					bad++
					if worst == "" {
						for _, u := range rep.Understated {
							if u.Read == i {
								worst = fmt.Sprintf("; first: %s read at %s said %.1fs, lagged >= %.1fs", rd.Kind, clock(rd.Invoke), u.Header, u.Lag.Seconds())
							}
						}
					}
				}
			}
			out = append(out, Target{
				Name:   fmt.Sprintf("#%d replica %s paused %s: never under-reports staleness", ev.N, ev.Target, ev.Hold),
				Pass:   bad == 0 && judged > 0,
				Detail: fmt.Sprintf("%d of %d reads that missed an acknowledged write under-reported%s", bad, judged, worst),
			})
		case Partition, LeaderPartition, PeerPartition:
			notServing := 0
			for _, h := range f.Replicas {
				if h.FirstNotServing >= 0 && h.FirstNotServing <= ev.Heal.Sub(ev.Start) {
					notServing++
				}
			}
			pass := f.Lost == 0 && notServing == 0 && f.okRatio() >= 0.99
			out = append(out, Target{
				Name: fmt.Sprintf("#%d %s %s cut off %s: no acked write lost, every replica serving (healthz 200, >= 99%% submissions OK)", ev.N, kindWord(ev.Kind), ev.Target, ev.Hold),
				Pass: pass,
				Detail: fmt.Sprintf("%d lost, %d replica(s) said NOT_SERVING, %d/%d submissions OK (%.1f%%), %d unknown, max latency %s",
					f.Lost, notServing, f.OK, f.Submitted, 100*f.okRatio(), f.Unknown, f.Max.Round(time.Millisecond)),
			})
		case QuorumKill, QuorumPause:
			limit := 5*time.Second + 500*time.Millisecond
			slow, n := 0, 0
			var slowest time.Duration
			for _, w := range rep.writes {
				if w.Invoke.Before(ev.Start) || w.Invoke.After(ev.Heal.Add(-limit)) {
					continue
				}
				n++
				slowest = max(slowest, w.Latency())
				if w.Latency() > limit {
					slow++
				}
			}
			out = append(out, Target{
				Name: fmt.Sprintf("#%d quorum loss (%s, %s): writes fail within the documented 5s (+0.5s measurement slack)", ev.N, ev.Target, ev.Hold),
				Pass: slow == 0 && n > 0,
				Detail: fmt.Sprintf("%d submissions started while no quorum could answer within 5.5s; %d took longer; slowest %s; first failure %s after the loss",
					n, slow, slowest.Round(time.Millisecond), durOr(f.FirstFailure)),
			})
		}
	}
	return out
}

func kindWord(kind string) string {
	switch kind {
	case LeaderPartition:
		return "leader"
	case PeerPartition:
		return "follower (from its peers only; clients still reach it)"
	}
	return "follower"
}

func durOr(d time.Duration) string {
	if d < 0 {
		return "–"
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
