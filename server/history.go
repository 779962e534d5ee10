package server

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/energylabel/energylabel/internal/lru"
	"github.com/energylabel/energylabel/internal/pbtime"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// History page sizes.
const (
	defaultHistoryPage = 100
	maxHistoryPage     = 1000
)

// History returns a page of a model's accepted results, oldest first,
// with the verifications of those results, and the token of the next page
// ("" on the last).
func (s *Server) History(ctx context.Context, model, task, hardware, dataset string, size int, pageToken string) ([]historyItem, string, error) {
	if err := rating.ValidateModel(model); err != nil {
		return nil, "", err
	}
	q := storage.HistoryQuery{Model: model, Dataset: dataset, Limit: defaultHistoryPage}
	if task != "" {
		t, ok := rating.LookupTask(task)
		if !ok {
			return nil, "", rating.UnknownTask("task", task)
		}
		q.Task = t.ID
	}
	if hardware != "" {
		if q.Hardware = s.Registry().Accelerators.Family(hardware); q.Hardware == "" {
			return nil, "", rating.Invalid("hardware", "unknown accelerator %s (see ListAccelerators)", rating.Quote(hardware))
		}
	}
	if len(dataset) > rating.MaxDatasetName {
		return nil, "", rating.Invalid("dataset", "at most %d bytes, got %d", rating.MaxDatasetName, len(dataset))
	}
	switch {
	case size < 0 || size > maxHistoryPage:
		return nil, "", rating.Invalid("page_size", "0 to %d, got %d", maxHistoryPage, size)
	case size > 0:
		q.Limit = size
	}
	if pageToken != "" {
		id, err := strconv.ParseUint(strings.TrimPrefix(pageToken, "h"), 10, 64)
		if err != nil || !strings.HasPrefix(pageToken, "h") {
			return nil, "", rating.Invalid("page_token", "not a token this server gave: %s", rating.Quote(pageToken))
		}
		q.After = id
	}
	want := q.Limit
	q.Limit++ // one more says whether there is a next page
	entries, err := s.backend.History(ctx, q)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(entries) > want {
		entries = entries[:want]
		next = "h" + strconv.FormatUint(entries[want-1].ID, 10)
	}
	return s.historyWith(model, q, entries, next == ""), next, nil
}

func (rs ratingService) GetHistory(ctx context.Context, req *energylabelv1.GetHistoryRequest) (*energylabelv1.GetHistoryResponse, error) {
	entries, next, err := rs.s.History(ctx, req.GetModel(), req.GetTask(), req.GetHardware(), req.GetDataset(), int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	resp := &energylabelv1.GetHistoryResponse{NextPageToken: next, Entries: make([]*energylabelv1.HistoryEntry, len(entries))}
	for i, e := range entries {
		if e.result != nil {
			resp.Entries[i] = historyProto(e.result)
		} else {
			resp.Entries[i] = rs.s.verificationHistoryProto(e.verification)
		}
	}
	return resp, nil
}

func historyProto(h *storage.HistoryEntry) *energylabelv1.HistoryEntry {
	c := h.Measure.Cohort
	p := &energylabelv1.HistoryEntry{
		Kind: historyKindResult, ResultId: h.ID, Revision: h.Revision, Task: c.Task, Dataset: c.Dataset, SizeClass: c.SizeClass, Hardware: c.Hardware,
		Basis: c.Basis.String(), WhPer_1KQueries: h.Measure.WhPer1kQueries, EnergyPerUnit: h.Measure.EnergyPerUnit, Unit: c.Basis.Symbol(),
		Scheme: h.Label.Scheme, Release: h.Label.Release, GpuCount: int32(h.GPUCount),
		MeasuredAt: pbtime.Timestamp(h.MeasuredAt), ReceivedAt: pbtime.Timestamp(h.ReceivedAt), Checks: h.Measure.Checks.Names(),
	}
	if h.Label.Grade != "" {
		p.Grade, p.Eei = &h.Label.Grade, &h.Label.EEI
	}
	if h.Label.Stars > 0 {
		stars := int32(h.Label.Stars)
		p.Stars = &stars
	}
	return p
}

// watchFilter is what a WatchRatings stream asks for.
type watchFilter struct{ model, task, namespace string }

func (f watchFilter) matches(c *storage.Current) bool {
	if f.model != "" && c.Model != f.model || f.task != "" && c.Measure.Cohort.Task != f.task {
		return false
	}
	owner, _, _ := strings.Cut(c.Model, "/")
	return f.namespace == "" || owner == f.namespace
}

func (rs ratingService) WatchRatings(req *energylabelv1.WatchRatingsRequest, stream energylabelv1.RatingService_WatchRatingsServer) error {
	s := rs.s
	f := watchFilter{model: req.GetModel(), namespace: req.GetNamespace()}
	if f.model != "" {
		if err := rating.ValidateModel(f.model); err != nil {
			return err
		}
	}
	if f.namespace != "" && rating.ValidateModel(f.namespace+"/x") != nil {
		return rating.Invalid("namespace", "%s is not a model owner", rating.Quote(f.namespace))
	}
	if req.GetTask() != "" {
		t, ok := rating.LookupTask(req.GetTask())
		if !ok {
			return rating.UnknownTask("task", req.GetTask())
		}
		f.task = t.ID
	}
	from := req.GetStartRevision()
	switch {
	case from < 0:
		return rating.Invalid("start_revision", "must not be negative, got %d", from)
	case from == 0:
		from = s.index.Revision()
	}
	addr := s.clientOf(stream.Context())
	if err := s.watches.take(addr); err != nil {
		return err
	}
	defer s.watches.give(addr)
	if req.GetStartRevision() != 0 {
		// A replay reads the store: it is a costly read.
		if err := s.reads.takeN(addr, replayCost, time.Now()); err != nil {
			return err
		}
	}

	sent := false
	for resp := range s.backend.Watch(stream.Context(), from, storage.WatchFilter{Model: f.model, Owner: f.namespace}) {
		if resp.Err != nil {
			if !sent && req.GetStartRevision() != 0 {
				return fmt.Errorf("%w: revision %d: %w", errOutOfRange, from, resp.Err)
			}
			return fmt.Errorf("%w: the watch fell behind the server's writes (%w); resume from the last revision received", errResourceExhausted, resp.Err)
		}
		sent = true
		if err := s.sendRatingEvents(stream, resp.Events, f); err != nil {
			return err
		}
	}
	return context.Cause(stream.Context()) // why it ended: the client, a limit, or a shutdown
}

// maxEventsPerMessage bounds the events of one WatchRatingsResponse, so
// that a watcher holds at most one small message at a time, however many
// results one revision stored (an import stores thousands).
const maxEventsPerMessage = 64

// sendRatingEvents sends what a watcher sees of events, in messages of
// at most maxEventsPerMessage events, each built as the previous is sent.
func (s *Server) sendRatingEvents(stream energylabelv1.RatingService_WatchRatingsServer, events []storage.Event, f watchFilter) error {
	out := &energylabelv1.WatchRatingsResponse{}
	for i := range events {
		ev := s.ratingEvent(&events[i], f)
		if ev == nil {
			continue
		}
		out.Events = append(out.Events, ev)
		if len(out.Events) == maxEventsPerMessage {
			if err := stream.Send(out); err != nil {
				return err
			}
			out = &energylabelv1.WatchRatingsResponse{Events: make([]*energylabelv1.RatingEvent, 0, maxEventsPerMessage)}
		}
	}
	if len(out.Events) == 0 {
		return nil
	}
	return stream.Send(out)
}

// sharedEventKey names a result's event as the index placed it at one
// revision.
type sharedEventKey struct {
	result uint64
	index  int64
}

// sharedEventsBudget bounds the events kept for the watchers of a
// revision: an import's thousands of results, each made once however
// many watch.
const sharedEventsBudget = 8 << 20

func newSharedEvents() *lru.Cache[sharedEventKey, *energylabelv1.RatingEvent] {
	return lru.New(sharedEventsBudget, answerShards,
		func(k sharedEventKey) uint64 { return k.result },
		func(_ sharedEventKey, ev *energylabelv1.RatingEvent) int { return proto.Size(ev) })
}

// ratingEvent is the event a watcher sees of a backend event, or nil.
func (s *Server) ratingEvent(ev *storage.Event, f watchFilter) *energylabelv1.RatingEvent {
	switch ev.Kind {
	case storage.ResultAdded:
		h := ev.Result
		if !f.matches(&h.Current) {
			return nil
		}
		// Every watcher of a revision gets the same events: each is made
		// once per index revision, and shared (nothing changes it).
		key := sharedEventKey{result: h.ID, index: s.index.Revision()}
		if shared, ok := s.events.Get(key, nil); ok {
			return shared
		}
		out := &energylabelv1.RatingEvent{Revision: ev.Revision, Kind: energylabelv1.RatingEvent_KIND_RESULT, Rating: s.ratingAsAccepted(h)}
		s.events.Put(key, out)
		return out
	case storage.ReleaseCreated:
		return &energylabelv1.RatingEvent{Revision: ev.Revision, Kind: energylabelv1.RatingEvent_KIND_RELEASE, Release: releaseProto(ev.Release)}
	}
	return nil
}

// ratingAsAccepted is the rating of an accepted result as its label said
// then, placed in its cohort as the index has it now.
func (s *Server) ratingAsAccepted(h *storage.HistoryEntry) *energylabelv1.Rating {
	r := s.rated(h.Current)
	p := s.RatingProto(&r, s.current)
	p.Release, p.StarsNote, p.Stars = h.Label.Release, "", nil
	if h.Label.Stars > 0 {
		stars := int32(h.Label.Stars)
		p.Stars = &stars
	}
	if p.ReceivedAt == nil {
		p.ReceivedAt = timestamppb.New(h.ReceivedAt)
	}
	return p
}
