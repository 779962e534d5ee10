package grpcapi

import (
	"context"

	"github.com/energylabel/energylabel/internal/pbtime"
	"github.com/energylabel/energylabel/internal/version"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/service"
)

func (rs ratingService) ListAccelerators(context.Context, *energylabelv1.ListAcceleratorsRequest) (*energylabelv1.ListAcceleratorsResponse, error) {
	builtin := len(rating.BuiltinAccelerators().All())
	resp := &energylabelv1.ListAcceleratorsResponse{}
	for i, a := range rs.s.svc.Registry().Accelerators.All() {
		resp.Accelerators = append(resp.Accelerators, &energylabelv1.Accelerator{
			Name: a.Name, Family: a.Family, BoardWatts: a.BoardWatts, FloorWatts: a.Floor(),
			Aliases: a.Aliases, Source: a.Source, Builtin: i < builtin,
			PeakDenseTflops_16Bit: a.PeakTFLOPS16, PeakDenseTflopsFastest: a.PeakTFLOPSFastest,
			FastestPrecision: a.FastestPrecision, MemoryGb: a.MemoryGB,
		})
	}
	return resp, nil
}

func (rs ratingService) ListDatasets(_ context.Context, req *energylabelv1.ListDatasetsRequest) (*energylabelv1.ListDatasetsResponse, error) {
	task := ""
	if req.GetTask() != "" {
		t, ok := rating.LookupTask(req.GetTask())
		if !ok {
			return nil, rating.UnknownTask("task", req.GetTask())
		}
		task = t.ID
	}
	builtin := len(rating.BuiltinDatasets().All())
	resp := &energylabelv1.ListDatasetsResponse{}
	for i, d := range rs.s.svc.Registry().Datasets.All() {
		if task == "" || d.Task == task {
			resp.Datasets = append(resp.Datasets, &energylabelv1.Dataset{Name: d.Name, Task: d.Task, Basis: d.Basis.String(), Builtin: i < builtin})
		}
	}
	return resp, nil
}

func (rs ratingService) ListReleases(context.Context, *energylabelv1.ListReleasesRequest) (*energylabelv1.ListReleasesResponse, error) {
	resp := &energylabelv1.ListReleasesResponse{}
	for _, rel := range rs.s.svc.Releases() {
		resp.Releases = append(resp.Releases, releaseProto(rel))
	}
	return resp, nil
}

func releaseProto(rel *rating.Release) *energylabelv1.Release {
	cohorts, starred, models := service.ReleaseSummary(rel)
	return &energylabelv1.Release{Name: rel.Name, CreatedAt: pbtime.Timestamp(rel.CreatedAt),
		Cohorts: int32(cohorts), StarredCohorts: int32(starred), Models: int32(models)}
}

func (as adminService) CreateRelease(ctx context.Context, req *energylabelv1.CreateReleaseRequest) (*energylabelv1.CreateReleaseResponse, error) {
	ch, err := as.s.svc.CreateRelease(ctx, req.GetName(), req.GetDryRun())
	if err != nil {
		return nil, err
	}
	if !req.GetDryRun() {
		as.s.log.Info("release created", "release", ch.Release.Name, "ratings_changed", ch.Changed, "ratings_starred", ch.Starred)
	}
	return &energylabelv1.CreateReleaseResponse{Release: releaseProto(ch.Release), RatingsChanged: int64(ch.Changed),
		RatingsStarred: int64(ch.Starred), DryRun: req.GetDryRun()}, nil
}

func (as adminService) AddAccelerator(ctx context.Context, req *energylabelv1.AddAcceleratorRequest) (*energylabelv1.AddAcceleratorResponse, error) {
	p := req.GetAccelerator()
	if p == nil {
		return nil, rating.Invalid("accelerator", "required")
	}
	a := rating.Accelerator{Name: p.GetName(), Family: p.GetFamily(), BoardWatts: p.GetBoardWatts(), Aliases: p.GetAliases(), Source: p.GetSource(),
		PeakTFLOPS16: p.GetPeakDenseTflops_16Bit(), PeakTFLOPSFastest: p.GetPeakDenseTflopsFastest(),
		FastestPrecision: p.GetFastestPrecision(), MemoryGB: p.GetMemoryGb()}
	if fw := p.GetFloorWatts(); fw > 0 && a.BoardWatts > 0 {
		a.FloorFraction = fw / a.BoardWatts
	}
	if err := as.s.svc.AddAccelerator(ctx, a); err != nil {
		return nil, err
	}
	as.s.log.Info("accelerator registered", "name", a.Name, "family", a.Family, "board_watts", a.BoardWatts,
		"peak_tflops", a.PeakTFLOPSFastest, "memory_gb", a.MemoryGB)
	return &energylabelv1.AddAcceleratorResponse{}, nil
}

func (as adminService) AddDataset(ctx context.Context, req *energylabelv1.AddDatasetRequest) (*energylabelv1.AddDatasetResponse, error) {
	p := req.GetDataset()
	if p == nil {
		return nil, rating.Invalid("dataset", "required")
	}
	d := rating.Dataset{Name: p.GetName(), Task: p.GetTask()}
	t, ok := rating.LookupTask(p.GetTask())
	if !ok {
		return nil, rating.UnknownTask("dataset.task", p.GetTask())
	}
	switch p.GetBasis() {
	case "query":
		d.Basis = rating.Query
	case "unit", t.Unit.String():
		d.Basis = t.Unit
	default:
		return nil, rating.Invalid("dataset.basis", "want query or unit (%s), got %s", t.Unit, rating.Quote(p.GetBasis()))
	}
	if err := as.s.svc.AddDataset(ctx, d); err != nil {
		return nil, err
	}
	as.s.log.Info("dataset registered", "name", d.Name, "task", t.ID, "basis", d.Basis.String())
	return &energylabelv1.AddDatasetResponse{}, nil
}

func (rs ratingService) GetServerInfo(context.Context, *energylabelv1.GetServerInfoRequest) (*energylabelv1.GetServerInfoResponse, error) {
	s := rs.s.svc
	reg := s.Registry()
	resp := &energylabelv1.GetServerInfoResponse{
		BaseUrl: s.BaseURL(), Version: version.String(), Accelerators: int32(len(reg.Accelerators.All())),
		Datasets: int32(len(reg.Datasets.All())), Tasks: int32(len(rating.Tasks())), Revision: s.Revision(),
		GradeSchemes: s.SchemeVersions(),
	}
	if rel := s.Release(); rel != nil {
		resp.Release = rel.Name
	}
	return resp, nil
}
