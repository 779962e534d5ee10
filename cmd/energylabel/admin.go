package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

var adminCommand = &command{
	name:    "admin",
	usage:   "admin backup -o FILE",
	summary: "(admin) save a consistent snapshot of the server's database",
	help:    adminHelp,
	run:     runAdmin,
}

const adminHelp = `
  admin backup -o FILE
  Streams a consistent snapshot while the server keeps serving. To restore,
  start energylabeld on a new data directory holding FILE as energylabel.db:
    mkdir restored && cp FILE restored/energylabel.db && energylabeld -data restored
  Needs the admin token.
`

func runAdmin(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("admin")
	out := fs.String("o", "", "")
	pos, err := a.parse("admin", fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return usageErrorf("admin", "missing subcommand (backup)")
	case pos[0] != "backup":
		return usageErrorf("admin", "unknown admin subcommand %q", pos[0])
	case len(pos) > 1:
		return usageErrorf("admin", "unexpected argument %q", pos[1])
	case *out == "":
		return usageErrorf("admin", "backup needs -o FILE")
	}
	c, err := a.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	// Write beside the target and rename, so a failed backup leaves no
	// half-written file that looks like a database.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".energylabel-backup-*")
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
		err = os.Rename(tmp.Name(), *out)
	}
	if err != nil {
		return fmt.Errorf("admin backup: %w", err)
	}
	fmt.Fprintf(a.stderr, "backup: %d bytes written to %s\n", n, *out)
	return nil
}
