package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

var adminCommand = &command{
	name: "admin",
	usage: "admin backup -o FILE | admin release create NAME [-dry-run] |\n" +
		"        admin hardware add NAME -family F -watts W [-alias A]... [-floor-watts W] [-source TEXT]\n" +
		"            [-peak-tflops T -fastest-precision P -memory-gb G [-peak-tflops-16 T]] |\n" +
		"        admin dataset add -task T -basis query|unit NAME",
	summary: "(admin) back up the database, freeze star bounds, register accelerators and datasets",
	help:    adminHelp,
	run:     runAdmin,
}

const adminHelp = `
  admin backup -o FILE
  Streams a consistent snapshot while the server keeps serving. To restore,
  start energylabeld on a new data directory holding FILE as energylabel.db:
    mkdir restored && cp FILE restored/energylabel.db && energylabeld -data restored

  admin release create NAME [-dry-run]
  Freezes every cohort's star bounds (lowest and highest energy, and the
  number of models) as release NAME. Every rating's stars are then against
  it, and no submission moves anyone else's stars until the next release.
  Prints how many ratings' stars change; -dry-run only prints it.

  admin hardware add NAME -family F -watts W [-alias A]... [-floor-watts W] [-source TEXT]
      [-peak-tflops T -fastest-precision P -memory-gb G [-peak-tflops-16 T]]
  Registers an accelerator variant: its cohort (-family), its board power
  from the vendor's datasheet (-watts), the names tools report for it
  (-alias, repeatable), the lowest plausible average power (-floor-watts,
  default 5 % of -watts) and where the figures come from (-source).
  The physical floors of token-unit tasks need, from the datasheet, the
  peak dense (not sparse) tensor TFLOP/s at the lowest precision the
  card computes in (-peak-tflops, with that precision's name in
  -fastest-precision, e.g. fp8) and its memory in GB (-memory-gb);
  -peak-tflops-16 is the 16-bit peak, for information. A variant without
  -peak-tflops and -memory-gb gets no floor: its ratings say "physics not
  checked".

  admin dataset add -task T -basis query|unit NAME
  Registers a dataset of task T, graded per query or per the task's
  functional unit.

All of them need the admin token.
`

// adminFlags are the flags of every admin subcommand.
type adminFlags struct {
	out, family, source, task, basis string
	watts, floorWatts                float64
	peak, peak16, memoryGB           float64
	fastestPrecision                 string
	dryRun                           bool
	aliases                          stringList
}

func runAdmin(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("admin")
	var f adminFlags
	fs.StringVar(&f.out, "o", "", "")
	fs.BoolVar(&f.dryRun, "dry-run", false, "")
	fs.StringVar(&f.family, "family", "", "")
	fs.Float64Var(&f.watts, "watts", 0, "")
	fs.Float64Var(&f.floorWatts, "floor-watts", 0, "")
	fs.StringVar(&f.source, "source", "", "")
	fs.Float64Var(&f.peak, "peak-tflops", 0, "")
	fs.Float64Var(&f.peak16, "peak-tflops-16", 0, "")
	fs.StringVar(&f.fastestPrecision, "fastest-precision", "", "")
	fs.Float64Var(&f.memoryGB, "memory-gb", 0, "")
	fs.Var(&f.aliases, "alias", "")
	fs.StringVar(&f.task, "task", "", "")
	fs.StringVar(&f.basis, "basis", "", "")
	pos, err := a.parse("admin", fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return briefUsageErrorf("admin", "admin: missing subcommand: backup, release create, hardware add or dataset add (see 'energylabel help admin')")
	}
	switch sub := strings.Join(pos[:min(2, len(pos))], " "); sub {
	case "release create":
		return a.adminRelease(ctx, pos[2:], f)
	case "hardware add":
		return a.adminHardware(ctx, pos[2:], f)
	case "dataset add":
		return a.adminDataset(ctx, pos[2:], f)
	}
	switch {
	case pos[0] != "backup":
		return usageErrorf("admin", "unknown admin subcommand %q", strings.Join(pos, " "))
	case len(pos) > 1:
		return usageErrorf("admin", "unexpected argument %q", pos[1])
	case f.out == "":
		return missingFlags("admin backup", "-o FILE")
	}
	return a.adminBackup(ctx, f.out)
}

// oneName is the single NAME argument of an admin subcommand.
func oneName(sub string, pos []string) (string, error) {
	switch len(pos) {
	case 0:
		return "", missingFlags("admin "+sub, "NAME")
	case 1:
		return pos[0], nil
	}
	return "", usageErrorf("admin", "%s: unexpected argument %q", sub, pos[1])
}

func (a *app) adminRelease(ctx context.Context, pos []string, f adminFlags) error {
	name, err := oneName("release create", pos)
	if err != nil {
		return err
	}
	c, err := a.dialWithToken("admin release create", "the admin token")
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.CreateRelease(ctx, name, f.dryRun)
	if err != nil {
		return wrapf("release create", name, err)
	}
	if a.cfg.JSON {
		return a.printJSON(resp)
	}
	verb := "created"
	if f.dryRun {
		verb = "would be created (dry run)"
	}
	rel := resp.GetRelease()
	fmt.Fprintf(a.stdout, "release %s %s: %d cohorts (%d with stars), %d models; stars change for %d ratings; %d ratings have stars\n",
		rel.GetName(), verb, rel.GetCohorts(), rel.GetStarredCohorts(), rel.GetModels(), resp.GetRatingsChanged(), resp.GetRatingsStarred())
	return nil
}

func (a *app) adminHardware(ctx context.Context, pos []string, f adminFlags) error {
	name, err := oneName("hardware add", pos)
	if err != nil {
		return err
	}
	var missing []string
	if f.family == "" {
		missing = append(missing, "-family F")
	}
	if f.watts <= 0 {
		missing = append(missing, "-watts W (the datasheet's board power)")
	}
	if f.peak > 0 && f.fastestPrecision == "" {
		missing = append(missing, "-fastest-precision P (the precision of -peak-tflops, e.g. fp8)")
	}
	if len(missing) > 0 {
		return missingFlags("admin hardware add", missing...)
	}
	c, err := a.dialWithToken("admin hardware add", "the admin token")
	if err != nil {
		return err
	}
	defer c.Close()
	acc := &energylabelv1.Accelerator{Name: name, Family: f.family, BoardWatts: f.watts, FloorWatts: f.floorWatts, Aliases: f.aliases, Source: f.source,
		PeakDenseTflopsFastest: f.peak, PeakDenseTflops_16Bit: f.peak16, FastestPrecision: f.fastestPrecision, MemoryGb: f.memoryGB}
	if err := c.AddAccelerator(ctx, acc); err != nil {
		return wrapf("hardware add", name, err)
	}
	if a.cfg.JSON {
		return a.printJSON(acc)
	}
	floors := "no physical floor: pass -peak-tflops and -memory-gb for one"
	if f.peak > 0 && f.memoryGB > 0 {
		floors = fmt.Sprintf("%v TFLOP/s at %s, %v GB", f.peak, f.fastestPrecision, f.memoryGB)
	}
	fmt.Fprintf(a.stdout, "accelerator %s registered in family %s (%v W; %s)\n", name, f.family, f.watts, floors)
	return nil
}

func (a *app) adminDataset(ctx context.Context, pos []string, f adminFlags) error {
	name, err := oneName("dataset add", pos)
	if err != nil {
		return err
	}
	var missing []string
	if f.task == "" {
		missing = append(missing, "-task T")
	}
	if f.basis == "" {
		missing = append(missing, "-basis query|unit")
	}
	if len(missing) > 0 {
		return missingFlags("admin dataset add", missing...)
	}
	if f.basis != "query" && f.basis != "unit" {
		return usageErrorf("admin", "-basis %s: want query or unit", quoteShort(f.basis))
	}
	task, err := resolveTask("admin", f.task)
	if err != nil {
		return err
	}
	c, err := a.dialWithToken("admin dataset add", "the admin token")
	if err != nil {
		return err
	}
	defer c.Close()
	d := &energylabelv1.Dataset{Name: name, Task: task, Basis: f.basis}
	if err := c.AddDataset(ctx, d); err != nil {
		return wrapf("dataset add", name, err)
	}
	if a.cfg.JSON {
		return a.printJSON(d)
	}
	fmt.Fprintf(a.stdout, "dataset %s registered for task %s, graded per %s\n", name, task, f.basis)
	return nil
}

func (a *app) adminBackup(ctx context.Context, out string) error {
	c, err := a.dialWithToken("admin backup", "the admin token")
	if err != nil {
		return err
	}
	defer c.Close()
	// Write beside the target and rename, so a failed backup leaves no
	// half-written file that looks like a database.
	tmp, err := os.CreateTemp(filepath.Dir(out), ".energylabel-backup-*")
	if err != nil {
		return fmt.Errorf("admin backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	n, err := c.Backup(ctx, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), out)
	}
	if err != nil {
		return fmt.Errorf("admin backup: %w", err)
	}
	fmt.Fprintf(a.stderr, "backup: %d bytes written to %s\n", n, out)
	return nil
}
