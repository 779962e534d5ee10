// Package storage is the seam between energylabel and the engines that
// keep its data: the stored types, the Backend every engine implements, and
// the change events a committed write yields.
//
// A backend is the durable log of accepted results and the current result
// of each model in each cohort, with tokens, the registries and the star
// releases beside them. Every committed write has a revision, higher than
// every earlier one (bbolt counts its own writes; etcd's revisions count
// the whole cluster's), and yields events carrying it. The read model (package
// index), history and live watch follow those events, never the writer's
// own process, so that several replicas can share one backend.
package storage

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/energylabel/energylabel/errdefs"
	"github.com/energylabel/energylabel/rating"
)

// Sentinel errors every backend returns, matched with errors.Is. Each has
// its errdefs kind, which the server's edges map to codes.
var (
	ErrNotFound = errdefs.New(errdefs.NotFound, "not found")
	// ErrExists means a name, or a measurement's fingerprint for another
	// model, is taken.
	ErrExists = errdefs.New(errdefs.AlreadyExists, "already exists")
	// ErrDuplicate means the same measurement is already stored for the
	// same model: Append returns it as a *DuplicateError naming the
	// stored result, and stores nothing.
	ErrDuplicate = errdefs.New(errdefs.AlreadyExists, "measurement already stored")
	// ErrFull means the backend refuses writes for want of space; reads go on.
	ErrFull = errdefs.New(errdefs.Exhausted, "storage full")
	// ErrCompacted means a watch asked for revisions the backend no longer
	// keeps: the watcher must load a snapshot again.
	ErrCompacted = errdefs.New(errdefs.OutOfRange, "revision compacted")
	// ErrClosed means the backend was closed.
	ErrClosed = errdefs.New(errdefs.Unavailable, "storage closed")
	// ErrUnavailable means the backend cannot commit or answer for now: an
	// etcd cluster without quorum, or out of reach. Whether a write that
	// failed with it was stored is unknown; the read model's reads go on.
	ErrUnavailable = errdefs.New(errdefs.Unavailable, "storage unavailable")
)

// DuplicateError says which stored result already holds a measurement.
type DuplicateError struct {
	ResultID uint64
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("the same measurement is already stored as result %d", e.ResultID)
}

// Is makes errors.Is(err, ErrDuplicate) true.
func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicate }

// ProgressInterval is how often, at least, a watch that is caught up
// says so, with a response that has neither events nor an error.
const ProgressInterval = 500 * time.Millisecond

// Audit records who submitted a result, when, from where, and what bytes.
type Audit struct {
	TokenID       string
	ReceivedAt    time.Time
	ClientAddr    string
	PayloadSHA256 string
	// Fingerprint is the server's fingerprint of a publisher's
	// measurement: one fingerprint labels one model. Empty for imports.
	Fingerprint string
}

// Label is what a rating said when its result was accepted: history shows
// it as it was, whatever releases come after.
type Label struct {
	Grade   string
	EEI     float64
	Scheme  string
	Stars   int
	Release string
}

// Accepted is one validated result to append, with what its label said at
// acceptance.
type Accepted struct {
	Result  *rating.Result
	Measure rating.Measure
	Audit   Audit
	Label   Label
	// Source is who vouches for the result: Published or Publisher.
	Source rating.Source
	// Carried is Current.Carried.
	Carried Reference
}

// Current is a model's current result in one cohort: what the read model
// keeps of it, enough to rate it without reading the log.
type Current struct {
	ID             uint64
	Model          string
	Measure        rating.Measure
	GPUCount       int
	ParamsBillions float64
	MeasuredAt     time.Time
	ReceivedAt     time.Time
	ToolName       string
	ToolVersion    string
	// Source is who vouches for the result: Published or Publisher.
	Source rating.Source
	// Carried is the model's latest reference result in the cohort when
	// this one was accepted; a declared result carries it forward, so that
	// a release counts the latest reference of each model. Zero for none.
	Carried Reference
}

// Reference is the figure a reference result counts with in a release.
type Reference struct {
	ResultID   uint64
	X, WhPer1k float64
}

// CurrentOf is the Current an accepted result becomes once stored as id.
func CurrentOf(id uint64, a *Accepted) Current {
	r := a.Result
	return Current{ID: id, Model: r.Model, Measure: a.Measure, GPUCount: r.GPUCount, ParamsBillions: r.ParamsBillions,
		MeasuredAt: CanonicalTime(r.MeasuredAt), ReceivedAt: CanonicalTime(a.Audit.ReceivedAt), ToolName: r.ToolName, ToolVersion: r.ToolVersion,
		Source: a.Source, Carried: a.Carried}
}

// HistoryEntry is one accepted result of a model, as history shows it.
type HistoryEntry struct {
	Current
	Label    Label
	Revision int64
	// StoredBytes is the size of the stored record, audit trail and run
	// energies included: what the result costs the store.
	StoredBytes int
}

// Token is a publisher token; only the SHA-256 of its secret is kept.
type Token struct {
	ID           string
	SecretSHA256 []byte
	Namespaces   []string
	CreatedAt    time.Time
	ExpiresAt    time.Time // zero: never
	LastUsedAt   time.Time
	Revoked      bool
	// Role is RolePublisher (also "") or RoleSurveyor.
	Role string
}

// VerificationName is a verification's unique name: the result it checked
// and how many measurements its state counts. Two surveyors measuring the
// same state at once give the same name, and the second to store it gets
// ErrExists: it measures again against the state the first left.
func VerificationName(v *Verification) string {
	return fmt.Sprintf("%020d/%06d", v.ResultID, v.Survey.Measurements)
}

// The token roles.
const (
	RolePublisher = "publisher"
	RoleSurveyor  = "surveyor"
)

// Verification is one surveyor measurement of a model's declared result,
// with the state of surveillance it left the model's rating in that cohort
// in: the latest verification of a model and cohort is its whole state.
type Verification struct {
	Model  string
	Cohort rating.Cohort
	// ResultID is the declared result it checked.
	ResultID uint64
	// TokenID is the surveyor's token.
	TokenID string
	At      time.Time
	// X and WhPer1k are this measurement's figures; Declared are the
	// declared result's, which it was compared with.
	X, WhPer1k float64
	Declared   Reference
	// Survey is the state after this measurement.
	Survey rating.Survey
	// Measurement is the surveyor's measurement as submitted, with its
	// audit trail.
	Measurement *rating.Result
	Audit       Audit
	// Revision is the revision it was stored at, set when read back.
	Revision int64
}

// EventKind says what an event changed.
type EventKind int

// The kinds of change.
const (
	// ResultAdded: a result was accepted and is its model's current one in
	// its cohort (unless a later one already is).
	ResultAdded EventKind = iota + 1
	// ReleaseCreated: a star release froze every cohort's bounds.
	ReleaseCreated
	// TokenPut: a token was created or changed (revoked).
	TokenPut
	// AcceleratorAdded and DatasetAdded: a registry grew.
	AcceleratorAdded
	DatasetAdded
	// VerificationAdded: a surveyor's measurement changed a model's
	// surveillance state.
	VerificationAdded
)

var kindNames = [...]string{"", "result", "release", "token", "accelerator", "dataset", "verification"}

func (k EventKind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "unknown"
	}
	return kindNames[k]
}

// Event is one change at one revision. Exactly the field of its kind is set.
type Event struct {
	Revision     int64
	Kind         EventKind
	Result       *HistoryEntry
	Release      *rating.Release
	Token        *Token
	Accelerator  *rating.Accelerator
	Dataset      *rating.Dataset
	Verification *Verification
}

// Record is a stored result as every backend keeps it, an
// energylabel.store.v1.Result with its audit trail, measure and label,
// under its id: what a move between backends copies byte for byte.
type Record struct {
	ID    uint64
	Value []byte
}

// Snapshot is everything the read model is built from, consistent at one
// revision: watching from Revision misses nothing and repeats nothing.
type Snapshot struct {
	Revision     int64
	Currents     []Current
	Tokens       []Token
	Accelerators []rating.Accelerator
	Datasets     []rating.Dataset
	Releases     []*rating.Release
	// Verifications are every surveyor measurement, oldest first: they
	// are few, as surveyors are.
	Verifications []Verification
}

// WatchResponse is a batch of events in revision order, or the error that
// ended the watch. One with neither is progress: when the backend sent it,
// the watcher had every event committed before; a watcher measures from
// these how stale its reads may be.
//
// A response holds at most WatchMaxEvents events and about WatchMaxBytes
// of them (EventBytes), so that a watcher holds a bounded amount however
// many results one revision stored: a larger revision is split across
// consecutive responses, each but the last with More set. Only a revision
// of results is ever split (every other write is one event).
type WatchResponse struct {
	Events []Event
	// More says that the last revision's events continue in the next
	// response: that revision is not complete yet. A watcher that keeps a
	// revision to resume from keeps the one before it (every earlier
	// revision is complete), and a watch that ends (Err) after a response
	// with More leaves that revision incomplete.
	More bool
	Err  error
}

// The bounds of one WatchResponse.
const (
	// WatchMaxEvents is the most events one response holds.
	WatchMaxEvents = 256
	// WatchMaxBytes is about the most memory one response's events hold,
	// as EventBytes estimates it; a single event larger than that (a
	// release of very many cohorts) is sent alone.
	WatchMaxBytes = 1 << 20
)

// WatchFits reports whether one more event of size bytes (EventBytes) fits
// a response that holds n events of bytes in all. The first always fits.
func WatchFits(n, bytes, size int) bool {
	return n == 0 || n < WatchMaxEvents && bytes+size <= WatchMaxBytes
}

// EventBytes estimates the memory a decoded event holds: its structs and
// the strings and slices they point at, within a few tens of bytes. It is
// what WatchMaxBytes counts; it is no measure of anything stored.
func EventBytes(ev *Event) int {
	const (
		event   = 64           // Event
		entry   = 336          // HistoryEntry
		verif   = 336          // Verification
		result  = 312          // rating.Result, a verification's measurement
		token   = 160          // Token
		cohort  = 72 + 48 + 16 // a release's Cohort and Bounds, with the map's overhead
		another = 128          // an Accelerator or a Dataset
	)
	n := event
	switch {
	case ev.Result != nil:
		c, l := &ev.Result.Measure.Cohort, &ev.Result.Label
		n += entry + len(ev.Result.Model) + len(ev.Result.ToolName) + len(ev.Result.ToolVersion) +
			len(c.Task) + len(c.Dataset) + len(c.SizeClass) + len(c.Hardware) + len(l.Grade) + len(l.Scheme) + len(l.Release)
	case ev.Release != nil:
		n += 48 + len(ev.Release.Name)
		for c := range ev.Release.Cohorts {
			n += cohort + len(c.Task) + len(c.Dataset) + len(c.SizeClass) + len(c.Hardware)
		}
	case ev.Token != nil:
		n += token + len(ev.Token.ID) + len(ev.Token.SecretSHA256) + len(ev.Token.Role)
		for _, ns := range ev.Token.Namespaces {
			n += 16 + len(ns)
		}
	case ev.Verification != nil:
		n += verif + len(ev.Verification.Model)
		if m := ev.Verification.Measurement; m != nil {
			n += result + len(m.Model) + 8*len(m.RunEnergiesWh)
		}
	default:
		n += another
	}
	return n
}

// WatchFilter selects the results a watch sends; registry, release, token
// and verification events always pass. The zero value passes everything.
// A backend decides from a result's model alone, before it decodes the
// result: a watch that asks for one model costs little however many other
// results it passes over.
type WatchFilter struct {
	// Model, when set, passes only that model's results (its exact id).
	Model string
	// Owner, when set, passes only the results of that owner's
	// (namespace's) models: those whose id starts with Owner + "/".
	Owner string
}

// Matches reports whether a result of model passes the filter.
func (f WatchFilter) Matches(model string) bool {
	if f.Model != "" && model != f.Model {
		return false
	}
	if f.Owner == "" {
		return true
	}
	owner, _, _ := strings.Cut(model, "/")
	return owner == f.Owner
}

// Passes reports whether an event passes the filter.
func (f WatchFilter) Passes(ev *Event) bool {
	return ev.Kind != ResultAdded || ev.Result == nil || f.Matches(ev.Result.Model)
}

// HistoryQuery selects a model's history, oldest first.
type HistoryQuery struct {
	Model string
	// Task, Dataset and Hardware, when set, keep only that cohort's entries.
	Task, Dataset, Hardware string
	// After is the id to continue after; 0 starts at the oldest.
	After uint64
	Limit int
	// Newest asks for the Limit newest matching entries instead (still
	// oldest first); After is then ignored.
	Newest bool
}

// Matches reports whether a cohort passes the query's filters.
func (q HistoryQuery) Matches(c rating.Cohort) bool {
	return (q.Task == "" || c.Task == q.Task) && (q.Dataset == "" || c.Dataset == q.Dataset) &&
		(q.Hardware == "" || c.Hardware == q.Hardware)
}

// Backend is what energylabel needs of a storage engine. Every write is
// durable when it returns, and atomic: all of it or none. Package
// storagetest is the contract in full: every backend runs it.
//
// A call whose context is done already returns the context's error, and
// a write then stores nothing; once Close was called, every call fails
// with ErrClosed, and every watch ends with it.
type Backend interface {
	// Append stores a batch of accepted results in one write, as one
	// revision, and returns the id of the first (ids are consecutive in
	// the batch's order) and the revision. A single submission is a batch
	// of one. A result's Audit.Fingerprint, when set, is claimed for its
	// model: one stored for another model fails the whole batch with
	// ErrExists, one stored for the same model with a *DuplicateError
	// naming that result, and nothing is stored. PayloadSHA256 claims
	// nothing. Each result's token, if stored, records its last use in
	// the same write, unless it recorded a later one already.
	//
	// Concurrent Appends may share a write, and so a revision (etcd's
	// do), each batch whole with ids of its own; one that cannot be
	// stored fails alone. No id is handed out twice, and none is skipped.
	// One caller's Appends get increasing revisions.
	Append(ctx context.Context, batch []Accepted) (first uint64, rev int64, err error)
	// Snapshot reads everything the read model needs, at one revision.
	Snapshot(ctx context.Context) (*Snapshot, error)
	// Watch sends every event after revision `after` that passes f, in
	// order, then new ones as they commit, until ctx ends or an error
	// (ErrCompacted when `after` is older than the backend keeps) closes
	// the channel. A watcher that does not keep up is sent ErrCompacted
	// rather than holding up writers. A watch that has caught up sends
	// progress at least every ProgressInterval while the backend answers.
	//
	// Each response is bounded (WatchMaxEvents, WatchMaxBytes), on replay
	// and live alike: a revision with more results than a response holds
	// comes in consecutive responses, all but the last with More set, and
	// no progress between them. A results' revision f passes nothing of
	// sends nothing, and costs no decoding of its results.
	Watch(ctx context.Context, after int64, f WatchFilter) <-chan WatchResponse
	// Revision is the revision of the last committed write, read as a
	// write would see it (linearizable): it never goes back, and after a
	// write returns it is at least that write's revision.
	Revision(ctx context.Context) (int64, error)
	// History returns a model's accepted results, oldest first.
	History(ctx context.Context, q HistoryQuery) ([]HistoryEntry, error)
	// Record returns a stored result with its audit trail, as Append was
	// given them (times as CanonicalTime makes them); an id never handed
	// out is ErrNotFound.
	Record(ctx context.Context, id uint64) (*rating.Result, Audit, error)

	// PutToken creates or replaces a token; Tokens lists them, with the
	// last use each submission recorded.
	PutToken(ctx context.Context, t Token) (rev int64, err error)
	Tokens(ctx context.Context) ([]Token, error)
	// AddAccelerator and AddDataset register an operator's addition; a
	// name already registered is ErrExists. CreateRelease stores a release
	// under a new name.
	AddAccelerator(ctx context.Context, a rating.Accelerator) (rev int64, err error)
	AddDataset(ctx context.Context, d rating.Dataset) (rev int64, err error)
	CreateRelease(ctx context.Context, rel *rating.Release) (rev int64, err error)
	// AddVerification stores a surveyor's measurement and the state it
	// leaves; it yields a VerificationAdded event. A verification whose
	// VerificationName is stored already is ErrExists, and stores nothing.
	AddVerification(ctx context.Context, v *Verification) (rev int64, err error)

	// Backup returns a consistent copy that the engine can start from, to
	// read at any pace, and its size (-1 when unknown). It is made at the
	// pace of the disk: a reader that stalls holds up no write.
	Backup(ctx context.Context) (io.ReadCloser, int64, error)
	// Size is the space the backend uses, in bytes.
	Size() int64
	Close() error
}

// The optional capabilities: a backend that has one says so with a
// compile-time assertion (var _ storage.BatchLimiter = (*Store)(nil)),
// and callers find it with a type assertion on the interface, never on an
// anonymous one, so that renaming a method breaks the build, not the
// behaviour.

// BatchLimiter is a backend whose Append takes a batch of bounded size:
// etcd's, whose transaction holds at most its --max-txn-ops operations. A
// caller that stores many results at once (an import) splits them into
// batches of at most MaxBatch; a backend that is no BatchLimiter takes
// a batch of any size in one write.
type BatchLimiter interface {
	// MaxBatch is the largest batch Append always takes in one write.
	MaxBatch() int
}

// Exporter is a backend that lists what it stores as it stores it: the
// source of a move into another backend (package move), which copies
// every record byte for byte and compares the two history indexes.
type Exporter interface {
	// EachRecord calls fn on every stored result, as stored, once each,
	// until fn fails. bbolt lists them in id order, which a move needs of
	// its source; etcd by model, then id.
	EachRecord(ctx context.Context, fn func(Record) error) error
	// EachIndexed calls fn on every entry of the history index, in model,
	// cohort key and id order: a result id of a model in a cohort, its key
	// as the records' cohort key spells it (task, dataset, size class,
	// hardware and basis joined by 0x1f). There is one entry per result.
	EachIndexed(ctx context.Context, fn func(model, cohortKey string, id uint64) error) error
}

// Importer is a backend that a move fills: it stores records under the
// ids they had in the source, which Append cannot.
type Importer interface {
	// Empty reports whether it holds nothing yet: a move fills only an
	// empty backend.
	Empty(ctx context.Context) (bool, error)
	// Import stores records under their ids, higher than any stored, with
	// their history index entries, their fingerprints' claims, and the
	// latest pointers of current, the records' current results (those not
	// in recs are left alone). Nothing else may write meanwhile. Later
	// Appends hand out ids after the highest imported.
	Import(ctx context.Context, recs []Record, current []Current) error
}

// CanonicalTime is how a time reads back from any backend: UTC, without a
// monotonic reading, so that a rebuilt read model equals the one it replaces.
func CanonicalTime(t time.Time) time.Time { return t.UTC().Round(0) }
