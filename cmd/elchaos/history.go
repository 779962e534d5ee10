package main

import (
	"math"
	"time"
)

// What the clients did and saw. Everything here is plain data: the run
// records it, the checker (check.go) judges it, the report summarises it,
// and the unit tests build it by hand.

// Outcomes of a submission.
const (
	// OK: the server acknowledged the submission; it must be stored.
	OK = "ok"
	// Failed: the submission certainly was not stored (rejected, or never
	// sent because the connection could not be made).
	Failed = "failed"
	// Unknown: it may or may not have been stored (a timeout, Unavailable
	// from the storage, a connection lost with the call in flight).
	Unknown = "unknown"
)

// Read kinds.
const (
	// ReadInfo is GetServerInfo: the revision the replica's ratings are at.
	ReadInfo = "info"
	// ReadRating is GetRating of a model: its current result.
	ReadRating = "rating"
	// ReadRYW is GetRating of a model by the writer that has just had a
	// submission of it acknowledged, on the acknowledging replica.
	ReadRYW = "ryw"
	// ReadHistory is GetHistory of a model (which reads etcd): its newest
	// result. The linearizability check uses these.
	ReadHistory = "history"
)

// Write is one submission.
type Write struct {
	// ID is the operation's number, unique in the run, and the value the
	// submission's figures encode (see energyFor).
	ID       int64     `json:"id"`
	Client   int       `json:"client"`
	Replica  int       `json:"replica"`
	Model    string    `json:"model"`
	Invoke   time.Time `json:"invoke"`
	Complete time.Time `json:"complete"`
	Outcome  string    `json:"outcome"`
	Code     string    `json:"code,omitempty"`
	Err      string    `json:"err,omitempty"`
	ResultID uint64    `json:"result_id,omitempty"`
	// AlreadyStored is the server's already_stored: it found the
	// measurement stored and wrote nothing.
	AlreadyStored bool `json:"already_stored,omitempty"`
}

// Latency is how long the submission took.
func (w Write) Latency() time.Duration { return w.Complete.Sub(w.Invoke) }

// Read is one read of a replica.
type Read struct {
	Kind        string    `json:"kind"`
	Reader      int       `json:"reader"`
	Replica     int       `json:"replica"`
	Incarnation int       `json:"incarnation"`
	Model       string    `json:"model,omitempty"`
	Invoke      time.Time `json:"invoke"`
	Complete    time.Time `json:"complete"`
	OK          bool      `json:"ok"`
	Code        string    `json:"code,omitempty"`
	// Revision is GetServerInfo's revision (ReadInfo).
	Revision int64 `json:"revision,omitempty"`
	// ResultID is the current result's id (ReadRating, ReadRYW,
	// ReadHistory); 0 when the model has none.
	ResultID uint64 `json:"result_id,omitempty"`
	// Value is the operation the current result's figures encode; 0 when
	// the model has none, -1 when they encode none.
	Value int64 `json:"value,omitempty"`
	// Staleness is the energylabel-staleness-seconds header; -1 when the
	// answer carried none.
	Staleness float64 `json:"staleness"`
	// After is, for ReadRYW, the Write it follows.
	After int64 `json:"after,omitempty"`
}

// Health is one poll of a replica's /healthz.
type Health struct {
	Replica int       `json:"replica"`
	At      time.Time `json:"at"`
	// Status is the HTTP status, 0 when there was no answer within the
	// poll's timeout (a stopped or dead process).
	Status int `json:"status"`
}

// Entry is one result as a replica reported it at the end.
type Entry struct {
	ResultID uint64 `json:"result_id"`
	Revision int64  `json:"revision,omitempty"`
	Value    int64  `json:"value"`
}

// Final is what every replica serves once the faults are over and the
// writers have stopped.
type Final struct {
	// History[r][model] is GetHistory of model on replica r, oldest first.
	History []map[string][]Entry `json:"history"`
	// Current[r][model] is GetRating's current result of model on replica
	// r; a model without one is absent.
	Current []map[string]Entry `json:"current"`
	// Listed[r] are the models ListRatings showed on replica r.
	Listed []map[string]Entry `json:"listed"`
	// Errors are the final reads that failed, every retry included.
	Errors []string `json:"errors,omitempty"`
}

// Each submission is a measurement of its own, and says which operation
// it is. The fingerprint the server dedupes by keeps four significant
// digits of each figure, so operation id gets GPU energy 1.000 + (id mod
// 8000)/1000 Wh and 1000 + id/8000 queries: a different pair for every
// id. Its measured_at is measureBase plus id seconds, which every rating
// and history entry reports, so that a result names its operation
// exactly; its Wh per 1,000 queries confirms it. Durations keep the power
// at 150 W, well inside an H100's bounds.
const (
	idsPerBlock = 8000
	watts       = 150.0
)

// measureBase is the measurement date of operation 0: in the past (the
// server refuses future dates), after 2015 (and older ones).
var measureBase = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// energyFor is the GPU energy (Wh) of operation id.
func energyFor(id int64) float64 { return 1 + float64(id%idsPerBlock)/1000 }

// queriesFor is its number of queries.
func queriesFor(id int64) int64 { return 1000 + id/idsPerBlock }

// durationFor makes it a 150 W run.
func durationFor(id int64) float64 { return energyFor(id) * 3600 / watts }

// measuredAt is its measurement date.
func measuredAt(id int64) time.Time { return measureBase.Add(time.Duration(id) * time.Second) }

// whPer1kFor is the Wh per 1,000 queries the server derives from it.
func whPer1kFor(id int64) float64 { return energyFor(id) / float64(queriesFor(id)) * 1000 }

// valueOf names the operation a stored result is: -1 when its date names
// none, or its figures are not that operation's.
func valueOf(measured time.Time, whPer1k float64) int64 {
	d := measured.Sub(measureBase)
	if d < time.Second || d%time.Second != 0 {
		return -1
	}
	id := int64(d / time.Second)
	if want := whPer1kFor(id); math.Abs(whPer1k-want) > 1e-9*want {
		return -1
	}
	return id
}
