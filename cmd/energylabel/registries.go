package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

var hardwareCommand = &command{
	name:    "hardware",
	usage:   "hardware",
	summary: "the accelerator registry: each variant, its cohort, board power, datasheet peak and memory, and the names tools report",
	run:     runHardware,
}

var datasetsCommand = &command{
	name:    "datasets",
	usage:   "datasets [-task T]",
	summary: "the registered datasets, each with its task and basis",
	help: `
  -task T  only the datasets of task T
`,
	run: runDatasets,
}

var releasesCommand = &command{
	name:    "releases",
	usage:   "releases",
	summary: "the star releases, oldest first; the last is current",
	run:     runReleases,
}

// listing runs a command that takes no arguments (but the given flags)
// and prints a list from the server, as a table or as JSON lines.
func listing[T proto.Message](ctx context.Context, a *app, name string, addFlags func(*flag.FlagSet), args []string,
	fetch func(context.Context, *app) ([]T, error), table func(*app, []T) error) error {
	flags := a.newFlagSet(name)
	if addFlags != nil {
		addFlags(flags)
	}
	pos, err := a.parse(name, flags, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf(name, "unexpected argument %q", pos[0])
	}
	items, err := fetch(ctx, a)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if a.cfg.JSON {
		for _, it := range items {
			if err := a.printJSON(it); err != nil {
				return err
			}
		}
		return nil
	}
	return table(a, items)
}

func runHardware(ctx context.Context, a *app, args []string) error {
	return listing(ctx, a, "hardware", nil, args, func(ctx context.Context, a *app) ([]*energylabelv1.Accelerator, error) {
		c, err := a.dial()
		if err != nil {
			return nil, err
		}
		defer c.Close()
		return c.ListAccelerators(ctx)
	}, func(a *app, accs []*energylabelv1.Accelerator) error {
		w := newTable(a.stdout)
		row(w, "VARIANT", "COHORT", "BOARD W", "FLOOR W", "PEAK TFLOP/S", "16-BIT", "MEMORY GB", "ALSO REPORTED AS")
		for _, acc := range accs {
			row(w, acc.GetName(), acc.GetFamily(), num(acc.GetBoardWatts()), num(acc.GetFloorWatts()), peak(acc),
				orDashNum(acc.GetPeakDenseTflops_16Bit()), orDashNum(acc.GetMemoryGb()), orDash(strings.Join(acc.GetAliases(), "; ")))
		}
		return w.Flush()
	})
}

// peak is an accelerator's fastest dense peak with its precision, or "-"
// when unpublished (no physical floor).
func peak(acc *energylabelv1.Accelerator) string {
	if acc.GetPeakDenseTflopsFastest() <= 0 {
		return "-"
	}
	return strings.TrimSpace(num(acc.GetPeakDenseTflopsFastest()) + " " + acc.GetFastestPrecision())
}

func orDashNum(v float64) string {
	if v <= 0 {
		return "-"
	}
	return num(v)
}

func runDatasets(ctx context.Context, a *app, args []string) error {
	var task string
	return listing(ctx, a, "datasets", func(fs *flag.FlagSet) { fs.StringVar(&task, "task", "", "") }, args,
		func(ctx context.Context, a *app) ([]*energylabelv1.Dataset, error) {
			id, err := resolveTask("datasets", task)
			if err != nil {
				return nil, err
			}
			c, err := a.dial()
			if err != nil {
				return nil, err
			}
			defer c.Close()
			return c.ListDatasets(ctx, id)
		}, func(a *app, ds []*energylabelv1.Dataset) error {
			w := newTable(a.stdout)
			row(w, "DATASET", "TASK", "BASIS")
			for _, d := range ds {
				row(w, d.GetName(), d.GetTask(), d.GetBasis())
			}
			return w.Flush()
		})
}

func runReleases(ctx context.Context, a *app, args []string) error {
	return listing(ctx, a, "releases", nil, args, func(ctx context.Context, a *app) ([]*energylabelv1.Release, error) {
		c, err := a.dial()
		if err != nil {
			return nil, err
		}
		defer c.Close()
		return c.ListReleases(ctx)
	}, func(a *app, rels []*energylabelv1.Release) error {
		if len(rels) == 0 {
			fmt.Fprintln(a.stdout, "no star release yet: ratings have no stars until an operator runs `energylabel admin release create NAME`")
			return nil
		}
		w := newTable(a.stdout)
		row(w, "RELEASE", "CREATED", "COHORTS", "WITH STARS", "MODELS")
		for _, r := range rels {
			row(w, r.GetName(), r.GetCreatedAt().AsTime().Format("2006-01-02 15:04:05Z"), fmt.Sprint(r.GetCohorts()),
				fmt.Sprint(r.GetStarredCohorts()), fmt.Sprint(r.GetModels()))
		}
		return w.Flush()
	})
}
