package service

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// registries are what the server grades against and may change at run
// time: the accelerator and dataset registries, and the star releases.
// Readers load them without a lock; the follower changes them as the
// backend's events say.
type registries struct {
	mu       sync.Mutex // serialises changes
	registry atomic.Pointer[rating.Registry]
	// releases are every release, oldest first; the last is current.
	// ListReleases is public, so it reads them here, not from storage.
	releases atomic.Pointer[[]*rating.Release]
}

// load builds the registries from the built-in ones and a snapshot's
// additions and releases.
func (r *registries) load(snap *storage.Snapshot) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	reg := rating.Builtin()
	var err error
	for _, a := range snap.Accelerators {
		if reg.Accelerators, err = reg.Accelerators.With(a); err != nil {
			return fmt.Errorf("registered accelerator %q: %w", a.Name, err)
		}
	}
	for _, d := range snap.Datasets {
		if reg.Datasets, err = reg.Datasets.With(d); err != nil {
			return fmt.Errorf("registered dataset %q: %w", d.Name, err)
		}
	}
	r.registry.Store(&reg)
	rels := slices.Clone(snap.Releases)
	r.releases.Store(&rels)
	return nil
}

// apply applies a registry or release event.
func (r *registries) apply(ev *storage.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	reg := *r.registry.Load()
	var err error
	switch ev.Kind {
	case storage.AcceleratorAdded:
		reg.Accelerators, err = reg.Accelerators.With(*ev.Accelerator)
	case storage.DatasetAdded:
		reg.Datasets, err = reg.Datasets.With(*ev.Dataset)
	case storage.ReleaseCreated:
		all := append(slices.Clip(*r.releases.Load()), ev.Release)
		r.releases.Store(&all)
		return nil
	}
	if err != nil {
		return err
	}
	r.registry.Store(&reg)
	return nil
}

// Registry is the accelerator and dataset registry in force, with the
// server's clock for measurement dates.
func (s *Service) Registry() rating.Registry {
	reg := *s.reg.registry.Load()
	reg.Now = s.now()
	return reg
}

// Release is the current star release, or nil before the first.
func (s *Service) Release() *rating.Release {
	if all := *s.reg.releases.Load(); len(all) > 0 {
		return all[len(all)-1]
	}
	return nil
}

// Releases are every star release, oldest first.
func (s *Service) Releases() []*rating.Release { return *s.reg.releases.Load() }

// AddAccelerator registers an accelerator variant, once the registry in
// force accepts it.
func (s *Service) AddAccelerator(ctx context.Context, a rating.Accelerator) error {
	if _, err := s.Registry().Accelerators.With(a); err != nil {
		return err
	}
	return s.wait(ctx)(s.backend.AddAccelerator(ctx, a))
}

// AddDataset registers a dataset.
func (s *Service) AddDataset(ctx context.Context, d rating.Dataset) error {
	if _, err := s.Registry().Datasets.With(d); err != nil {
		return err
	}
	return s.wait(ctx)(s.backend.AddDataset(ctx, d))
}

// wait returns a function that waits until the server has applied a
// write's revision, so that the writer reads it back at once.
func (s *Service) wait(ctx context.Context) func(rev int64, err error) error {
	return func(rev int64, err error) error {
		if err != nil {
			return err
		}
		return s.caughtUp(ctx, rev, "")
	}
}

// CatchUpWait bounds how long a write, once stored, waits for this
// server's read model to show it, as a write waits for its storage
// (etcdstore's RequestTimeout): a storage that stops answering right after
// a commit costs a writer this long, not its whole deadline.
const CatchUpWait = 5 * time.Second

// caughtUp waits until the read model has applied rev, at most
// CatchUpWait; what was stored is named by what ("" for the revision).
// Past the bound the error is Unavailable, and says that the write is
// stored: it shows once the server catches up, and a repeated submission
// returns it.
func (s *Service) caughtUp(ctx context.Context, rev int64, what string) error {
	wctx, cancel := context.WithTimeout(ctx, CatchUpWait)
	defer cancel()
	err := s.index.WaitFor(wctx, rev)
	if err == nil || ctx.Err() != nil {
		return err
	}
	if what == "" {
		what = fmt.Sprintf("the write (revision %d)", rev)
	}
	return fmt.Errorf("%w: %s is stored, but this server's read model has not caught up with its storage within %s; it shows once it has (another replica may show it now)",
		errNotCaughtUp, what, CatchUpWait)
}

// ReleaseChange is what creating a release does to the current ratings.
type ReleaseChange struct {
	Release *rating.Release
	// Changed counts current ratings whose stars differ from the previous
	// release's; Starred, those that have stars under the new one.
	Changed, Starred int
}

// CreateRelease freezes every cohort's star bounds and ranks under name,
// from the latest reference result of each model (published, verified or
// corrected: declared results never count), and reports how many ratings'
// stars it changes. A dry run reports without creating it.
func (s *Service) CreateRelease(ctx context.Context, name string, dryRun bool) (ReleaseChange, error) {
	if err := rating.ValidateReleaseName(name); err != nil {
		return ReleaseChange{}, err
	}
	if slices.ContainsFunc(s.Releases(), func(r *rating.Release) bool { return r.Name == name }) {
		return ReleaseChange{}, fmt.Errorf("release %q: %w", name, storage.ErrExists)
	}
	rel := &rating.Release{Name: name, CreatedAt: s.now().UTC(), Cohorts: s.index.ReferenceBounds()}
	old := s.Release()
	ch := ReleaseChange{Release: rel}
	s.index.EachRated(func(r *index.Rated) {
		shown := r.Shown()
		after := rel.Stars(shown)
		if after.Stars > 0 {
			ch.Starred++
		}
		if after.Stars != old.Stars(shown).Stars {
			ch.Changed++
		}
	})
	if dryRun {
		return ch, nil
	}
	return ch, s.wait(ctx)(s.backend.CreateRelease(ctx, rel))
}

// ReleaseSummary counts a release's cohorts and models.
func ReleaseSummary(rel *rating.Release) (cohorts, starred, models int) {
	for _, b := range rel.Cohorts {
		cohorts++
		models += b.Models
		if b.Models >= rating.MinReleaseModels {
			starred++
		}
	}
	return cohorts, starred, models
}
