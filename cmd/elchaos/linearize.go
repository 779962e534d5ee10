package main

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"
)

// Linearizability of each model's current result as a register: a
// submission writes its operation's value; GetHistory (which reads etcd,
// not the replica's index) reads the newest entry's value. Reads from the
// replicas' indexes are not in it: they may be stale by design, and
// monotonic reads and honest staleness judge them instead.

type regInput struct {
	write bool
	value int64
}

// registerModel is a per-model register, partitioned by model.
var registerModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byModel := map[string][]porcupine.Operation{}
		var order []string
		for _, op := range history {
			m := op.Metadata.(string)
			if _, ok := byModel[m]; !ok {
				order = append(order, m)
			}
			byModel[m] = append(byModel[m], op)
		}
		out := make([][]porcupine.Operation, 0, len(order))
		for _, m := range order {
			out = append(out, byModel[m])
		}
		return out
	},
	Init: func() any { return int64(0) },
	Step: func(state, input, output any) (bool, any) {
		in := input.(regInput)
		if in.write {
			return true, in.value
		}
		return output.(int64) == state.(int64), state
	},
	DescribeOperation: func(input, output any) string {
		in := input.(regInput)
		if in.write {
			return fmt.Sprintf("write(%d)", in.value)
		}
		return fmt.Sprintf("read() -> %d", output.(int64))
	},
}

// Linearizability is porcupine's verdict.
type Linearizability struct {
	Result     porcupine.CheckResult
	Models     int
	Operations int
	Took       time.Duration
	// Illegal names models whose history is not linearizable (when the
	// result is Illegal), from porcupine's partial linearizations.
	Illegal []string
}

// CheckLinearizable runs porcupine over the acknowledged and unknown
// submissions and the successful GetHistory reads.
func CheckLinearizable(writes []Write, reads []Read, timeout time.Duration) Linearizability {
	ops := linearizationHistory(writes, reads)
	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(registerModel, ops, timeout)
	out := Linearizability{Result: res, Operations: len(ops), Took: time.Since(start)}
	models := map[string]bool{}
	for _, op := range ops {
		models[op.Metadata.(string)] = true
	}
	out.Models = len(models)
	if res == porcupine.Illegal {
		// Each partition's longest partial linearization; a partition
		// that could not be linearized in full is an illegal one.
		parts := registerModel.Partition(ops)
		for i, p := range info.PartialLinearizations() {
			if i >= len(parts) {
				break
			}
			longest := 0
			for _, l := range p {
				longest = max(longest, len(l))
			}
			if longest < len(parts[i]) && len(parts[i]) > 0 {
				out.Illegal = append(out.Illegal, parts[i][0].Metadata.(string))
			}
		}
		slices.Sort(out.Illegal)
	}
	return out
}

func linearizationHistory(writes []Write, reads []Read) []porcupine.Operation {
	var t0 time.Time
	for _, w := range writes {
		if t0.IsZero() || w.Invoke.Before(t0) {
			t0 = w.Invoke
		}
	}
	for _, r := range reads {
		if t0.IsZero() || r.Invoke.Before(t0) {
			t0 = r.Invoke
		}
	}
	ns := func(t time.Time) int64 { return int64(t.Sub(t0)) }
	var ops []porcupine.Operation
	for _, w := range writes {
		switch w.Outcome {
		case OK:
			ops = append(ops, porcupine.Operation{ClientId: w.Client, Input: regInput{write: true, value: w.ID},
				Call: ns(w.Invoke), Output: int64(0), Return: ns(w.Complete), Metadata: w.Model})
		case Unknown:
			// It may take effect at any time after it was invoked.
			ops = append(ops, porcupine.Operation{ClientId: w.Client, Input: regInput{write: true, value: w.ID},
				Call: ns(w.Invoke), Output: int64(0), Return: math.MaxInt64 / 2, Metadata: w.Model})
		}
	}
	for _, r := range reads {
		if r.Kind != ReadHistory || !r.OK {
			continue
		}
		ops = append(ops, porcupine.Operation{ClientId: 1000 + r.Reader, Input: regInput{}, Call: ns(r.Invoke),
			Output: r.Value, Return: ns(r.Complete), Metadata: r.Model})
	}
	return ops
}
