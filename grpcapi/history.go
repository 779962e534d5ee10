package grpcapi

import (
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"

	"context"
	"fmt"

	"github.com/energylabel/energylabel/internal/lru"
	"github.com/energylabel/energylabel/internal/pbtime"
	"github.com/energylabel/energylabel/internal/wire"
	"github.com/energylabel/energylabel/limits"
	"github.com/energylabel/energylabel/service"
	"github.com/energylabel/energylabel/storage"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func (rs ratingService) GetHistory(ctx context.Context, req *energylabelv1.GetHistoryRequest) (*energylabelv1.GetHistoryResponse, error) {
	entries, next, err := rs.s.svc.History(ctx, req.GetModel(), req.GetTask(), req.GetHardware(), req.GetDataset(), int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	resp := &energylabelv1.GetHistoryResponse{NextPageToken: next, Entries: make([]*energylabelv1.HistoryEntry, len(entries))}
	for i, e := range entries {
		if e.Result != nil {
			resp.Entries[i] = historyProto(e.Result)
		} else {
			resp.Entries[i] = verificationHistoryProto(e.Verification, rs.s.svc.CurrentScheme())
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

func (rs ratingService) WatchRatings(req *energylabelv1.WatchRatingsRequest, stream energylabelv1.RatingService_WatchRatingsServer) error {
	s := rs.s
	f, err := s.svc.CheckWatch(service.WatchQuery{Model: req.GetModel(), Task: req.GetTask(), Namespace: req.GetNamespace(), From: req.GetStartRevision()})
	if err != nil {
		return err
	}
	addr := s.clientOf(stream.Context())
	if err := s.clients.TakeWatch(addr); err != nil {
		return err
	}
	defer s.clients.GiveWatch(addr)
	if req.GetStartRevision() != 0 {
		// A replay reads the store: it is a costly read.
		if err := s.clients.SpendReads(addr, limits.ReplayCost); err != nil {
			return err
		}
	}

	sent := false
	for resp := range s.svc.Watch(stream.Context(), f) {
		if resp.Err != nil {
			if !sent && req.GetStartRevision() != 0 {
				return fmt.Errorf("%w: revision %d: %w", errOutOfRange, f.From, resp.Err)
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
func (s *API) sendRatingEvents(stream energylabelv1.RatingService_WatchRatingsServer, events []storage.Event, f service.WatchFilter) error {
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
func (s *API) ratingEvent(ev *storage.Event, f service.WatchFilter) *energylabelv1.RatingEvent {
	switch ev.Kind {
	case storage.ResultAdded:
		h := ev.Result
		if !f.Matches(&h.Current) {
			return nil
		}
		// Every watcher of a revision gets the same events: each is made
		// once per index revision, and shared (nothing changes it).
		key := sharedEventKey{result: h.ID, index: s.svc.Revision()}
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
func (s *API) ratingAsAccepted(h *storage.HistoryEntry) *energylabelv1.Rating {
	r := s.svc.AsAccepted(h)
	p := wire.Rating(&r, s.svc.CurrentScheme(), s.svc.Release())
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
