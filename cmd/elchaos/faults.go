package main

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// The faults, and the schedules that inject them one after another while
// the workload runs.

// Fault kinds.
const (
	MemberKill      = "member-kill"      // SIGKILL a follower member, restart it at heal
	LeaderKill      = "leader-kill"      // SIGKILL the leader, restart it at heal
	FollowerPause   = "follower-pause"   // SIGSTOP a follower member, SIGCONT at heal
	LeaderPause     = "leader-pause"     // SIGSTOP the leader, SIGCONT at heal
	ReplicaKill     = "replica-kill"     // SIGKILL a replica, restart it at heal
	ReplicaPause    = "replica-pause"    // SIGSTOP a replica, SIGCONT at heal
	Compaction      = "compaction"       // SIGSTOP a replica, compact etcd to its head, SIGCONT at heal
	QuorumKill      = "quorum-loss"      // SIGKILL two follower members, restart them at heal
	QuorumPause     = "quorum-loss-stop" // SIGSTOP two follower members, SIGCONT at heal
	Partition       = "partition"        // cut a follower member off the network, join it at heal
	LeaderPartition = "leader-partition" // cut the leader off the network, join it at heal
	PeerPartition   = "peer-partition"   // cut a follower member off its peers only: clients still reach it
)

// Step is one fault of a schedule: held for Hold, then healed, then
// Settle of steady running before the next.
type Step struct {
	Kind   string
	Hold   time.Duration
	Settle time.Duration
	// Replica picks the replica of replica faults (0-based).
	Replica int
}

// Schedule is the faults of a run, after Warmup of steady running.
type Schedule struct {
	Name   string
	Warmup time.Duration
	Steps  []Step
}

func (s Schedule) Duration() time.Duration {
	d := s.Warmup
	for _, st := range s.Steps {
		d += st.Hold + st.Settle
	}
	return d
}

func shortSchedule() Schedule {
	s := time.Second
	return Schedule{Name: "short", Warmup: 8 * s, Steps: []Step{
		{Kind: MemberKill, Hold: 5 * s, Settle: 4 * s},
		{Kind: LeaderKill, Hold: 5 * s, Settle: 5 * s},
		{Kind: FollowerPause, Hold: 15 * s, Settle: 4 * s},
		{Kind: LeaderPause, Hold: 8 * s, Settle: 5 * s},
		{Kind: ReplicaKill, Hold: 3 * s, Settle: 4 * s, Replica: 0},
		{Kind: ReplicaPause, Hold: 8 * s, Settle: 4 * s, Replica: 1},
		{Kind: Compaction, Hold: 5 * s, Settle: 4 * s, Replica: 2},
		{Kind: QuorumKill, Hold: 12 * s, Settle: 10 * s},
		{Kind: Partition, Hold: 15 * s, Settle: 5 * s},
		{Kind: PeerPartition, Hold: 10 * s, Settle: 5 * s},
	}}
}

func fullSchedule() Schedule {
	s := time.Second
	return Schedule{Name: "full", Warmup: 20 * s, Steps: []Step{
		{Kind: MemberKill, Hold: 10 * s, Settle: 10 * s},
		{Kind: LeaderKill, Hold: 10 * s, Settle: 10 * s},
		{Kind: FollowerPause, Hold: 15 * s, Settle: 10 * s},
		{Kind: LeaderPause, Hold: 15 * s, Settle: 10 * s},
		{Kind: ReplicaKill, Hold: 5 * s, Settle: 10 * s, Replica: 0},
		{Kind: ReplicaPause, Hold: 8 * s, Settle: 10 * s, Replica: 1},
		{Kind: Compaction, Hold: 10 * s, Settle: 10 * s, Replica: 2},
		{Kind: QuorumKill, Hold: 20 * s, Settle: 15 * s},
		{Kind: Partition, Hold: 20 * s, Settle: 10 * s},
		// Again, with other targets and the harder variants.
		{Kind: LeaderKill, Hold: 3 * s, Settle: 10 * s},
		{Kind: FollowerPause, Hold: 15 * s, Settle: 10 * s},
		{Kind: ReplicaPause, Hold: 8 * s, Settle: 10 * s, Replica: 2},
		{Kind: ReplicaKill, Hold: 2 * s, Settle: 10 * s, Replica: 1},
		{Kind: LeaderPartition, Hold: 20 * s, Settle: 15 * s},
		{Kind: PeerPartition, Hold: 20 * s, Settle: 15 * s},
		{Kind: QuorumPause, Hold: 20 * s, Settle: 15 * s},
		{Kind: ReplicaPause, Hold: 8 * s, Settle: 10 * s, Replica: 0},
		{Kind: Compaction, Hold: 15 * s, Settle: 10 * s, Replica: 0},
		{Kind: MemberKill, Hold: 30 * s, Settle: 10 * s},
		{Kind: Partition, Hold: 30 * s, Settle: 15 * s},
		{Kind: FollowerPause, Hold: 15 * s, Settle: 10 * s},
		{Kind: LeaderPause, Hold: 5 * s, Settle: 10 * s},
		{Kind: QuorumKill, Hold: 30 * s, Settle: 20 * s},
	}}
}

// Event is one fault as it happened.
type Event struct {
	N      int
	Kind   string
	Target string
	Hold   time.Duration
	Start  time.Time // injected
	Heal   time.Time // healed (restarted, resumed, joined)
	End    time.Time // the next fault's start, or the end of the run
	Notes  []string
	// Restart is how long a restarted replica took to answer /healthz 200.
	Restart time.Duration
}

func (e *Event) note(format string, args ...any) {
	e.Notes = append(e.Notes, fmt.Sprintf(format, args...))
}

// inject runs one step: inject, hold, heal.
func (c *cluster) inject(ctx context.Context, n int, st Step) *Event {
	ev := &Event{N: n, Kind: st.Kind, Hold: st.Hold}
	hold := func() { sleep(ctx, st.Hold) }
	leader := c.waitLeader(ctx, 10*time.Second)
	follower := func(skip int) int {
		for i := range c.members {
			if i != leader && i != skip {
				return i
			}
		}
		return -1
	}
	must := func(err error) {
		if err != nil {
			ev.note("error: %v", err)
		}
	}
	if leader < 0 && (st.Kind == LeaderKill || st.Kind == LeaderPause || st.Kind == LeaderPartition) {
		ev.note("no leader found: using m1")
		leader = 0
	}
	switch st.Kind {
	case MemberKill, LeaderKill:
		m := c.members[follower(-1)]
		if st.Kind == LeaderKill {
			m = c.members[leader]
		}
		ev.Target = m.name
		ev.Start = time.Now()
		c.kill(m)
		hold()
		ev.Heal = time.Now()
		must(c.start(m))
	case FollowerPause, LeaderPause:
		m := c.members[follower(-1)]
		if st.Kind == LeaderPause {
			m = c.members[leader]
		}
		ev.Target = m.name
		ev.Start = time.Now()
		must(m.signal(syscall.SIGSTOP))
		hold()
		ev.Heal = time.Now()
		must(m.signal(syscall.SIGCONT))
	case ReplicaKill:
		r := c.replicas[st.Replica]
		ev.Target = r.name
		ev.Start = time.Now()
		c.kill(r)
		hold()
		ev.Heal = time.Now()
		took, err := c.startReplica(ctx, r, 60*time.Second)
		must(err)
		ev.Restart = took
		ev.note("%s answered /healthz 200 %.1fs after its restart", r.name, took.Seconds())
	case ReplicaPause:
		r := c.replicas[st.Replica]
		ev.Target = r.name
		ev.Start = time.Now()
		must(r.signal(syscall.SIGSTOP))
		hold()
		ev.Heal = time.Now()
		must(r.signal(syscall.SIGCONT))
	case Compaction:
		r := c.replicas[st.Replica]
		ev.Target = "etcd, with " + r.name + " stopped"
		ev.Start = time.Now()
		must(r.signal(syscall.SIGSTOP))
		sleep(ctx, st.Hold/2)
		rev, err := c.compact(ctx)
		if err != nil {
			ev.note("compaction failed: %v", err)
		} else {
			ev.note("compacted etcd at revision %d, %.1fs after %s stopped", rev, time.Since(ev.Start).Seconds(), r.name)
		}
		sleep(ctx, st.Hold-st.Hold/2)
		ev.Heal = time.Now()
		must(r.signal(syscall.SIGCONT))
	case QuorumKill, QuorumPause:
		a, b := c.members[follower(-1)], c.members[follower(follower(-1))]
		ev.Target = a.name + "+" + b.name
		ev.Start = time.Now()
		if st.Kind == QuorumKill {
			c.kill(a)
			c.kill(b)
		} else {
			must(a.signal(syscall.SIGSTOP))
			must(b.signal(syscall.SIGSTOP))
		}
		hold()
		ev.Heal = time.Now()
		if st.Kind == QuorumKill {
			must(c.start(a))
			must(c.start(b))
		} else {
			must(a.signal(syscall.SIGCONT))
			must(b.signal(syscall.SIGCONT))
		}
	case Partition, LeaderPartition, PeerPartition:
		m := c.members[follower(-1)]
		if st.Kind == LeaderPartition {
			m = c.members[leader]
		}
		peers := st.Kind == PeerPartition
		ev.Target = m.name
		ev.Start = time.Now()
		must(c.partition(m, true, peers))
		hold()
		ev.Heal = time.Now()
		must(c.partition(m, false, peers))
	default:
		ev.note("unknown fault kind")
		ev.Start, ev.Heal = time.Now(), time.Now()
	}
	if l := c.leader(ctx); l >= 0 {
		ev.note("leader before: m%d, after heal: m%d", leader+1, l+1)
	}
	return ev
}

// heal undoes whatever a failed or cancelled step may have left: every
// member and replica running, resumed and joined.
func (c *cluster) heal(ctx context.Context) {
	for _, p := range append(slicesClone(c.members), c.replicas...) {
		p.mu.Lock()
		running, paused, cut := p.cmd != nil, p.paused, p.partitioned
		p.mu.Unlock()
		if cut {
			c.partition(p, false, false)
		}
		if paused {
			p.signal(syscall.SIGCONT)
		}
		if !running {
			c.start(p)
		}
	}
}
