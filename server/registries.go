package server

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/store"
)

// registries are what the server grades against and may change at run
// time: the accelerator and dataset registries, and the current star
// release. Readers load them without a lock; the admin calls that change
// them take mu, persist the change, then publish it.
type registries struct {
	mu       sync.Mutex
	registry atomic.Pointer[rating.Registry]
	// releases are every release, oldest first; the last is current.
	// ListReleases is public, so it reads them here, not from the file.
	releases atomic.Pointer[[]*rating.Release]
}

// loadRegistries builds the registries from the built-in ones, the
// operators' additions and the latest release in the store.
func (r *registries) load(st Store) error {
	reg := rating.Builtin()
	accels, datasets, err := st.Registered()
	if err != nil {
		return fmt.Errorf("registries: %w", err)
	}
	for _, a := range accels {
		if reg.Accelerators, err = reg.Accelerators.With(a); err != nil {
			return fmt.Errorf("registered accelerator %q: %w", a.Name, err)
		}
	}
	for _, d := range datasets {
		if reg.Datasets, err = reg.Datasets.With(d); err != nil {
			return fmt.Errorf("registered dataset %q: %w", d.Name, err)
		}
	}
	r.registry.Store(&reg)
	releases, err := st.Releases()
	if err != nil {
		return fmt.Errorf("releases: %w", err)
	}
	r.releases.Store(&releases)
	return nil
}

// Registry is the accelerator and dataset registry in force.
func (s *Server) Registry() rating.Registry { return *s.reg.registry.Load() }

// Release is the current star release, or nil before the first.
func (s *Server) Release() *rating.Release {
	if all := *s.reg.releases.Load(); len(all) > 0 {
		return all[len(all)-1]
	}
	return nil
}

// Releases are every star release, oldest first.
func (s *Server) Releases() []*rating.Release { return *s.reg.releases.Load() }

// AddAccelerator registers an accelerator variant.
func (s *Server) AddAccelerator(a rating.Accelerator) error {
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	reg := s.Registry()
	var err error
	if reg.Accelerators, err = reg.Accelerators.With(a); err != nil {
		return err
	}
	if err := s.store.AddAccelerator(a); err != nil {
		return err
	}
	s.reg.registry.Store(&reg)
	return nil
}

// AddDataset registers a dataset.
func (s *Server) AddDataset(d rating.Dataset) error {
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	reg := s.Registry()
	var err error
	if reg.Datasets, err = reg.Datasets.With(d); err != nil {
		return err
	}
	if err := s.store.AddDataset(d); err != nil {
		return err
	}
	s.reg.registry.Store(&reg)
	return nil
}

// ReleaseChange is what creating a release does to the current ratings.
type ReleaseChange struct {
	Release *rating.Release
	// Changed counts current ratings whose stars differ from the previous
	// release's; Starred, those that have stars under the new one.
	Changed, Starred int
}

// CreateRelease freezes every cohort's star bounds as they are now under
// name, and reports how many ratings' stars it changes. A dry run reports
// without creating it.
func (s *Server) CreateRelease(name string, dryRun bool) (ReleaseChange, error) {
	if err := rating.ValidateReleaseName(name); err != nil {
		return ReleaseChange{}, err
	}
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	rel := &rating.Release{Name: name, CreatedAt: s.now().UTC(), Cohorts: s.store.CohortBounds()}
	old := s.Release()
	ch := ReleaseChange{Release: rel}
	s.store.EachLatest(func(e *store.Entry) {
		after := rel.Stars(e.Measure)
		if after.Stars > 0 {
			ch.Starred++
		}
		if after.Stars != old.Stars(e.Measure).Stars {
			ch.Changed++
		}
	})
	if dryRun {
		return ch, nil
	}
	if err := s.store.CreateRelease(rel); err != nil {
		return ReleaseChange{}, err
	}
	all := append(slices.Clip(s.Releases()), rel)
	s.reg.releases.Store(&all)
	return ch, nil
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
