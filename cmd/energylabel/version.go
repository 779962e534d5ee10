package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/energylabel/energylabel/internal/version"
)

var versionCommand = &command{
	name:    "version",
	usage:   "version",
	summary: "this client's version, and the server's with its public URL, grade schemes and star release",
	run:     runVersion,
	direct:  true,
}

func runVersion(ctx context.Context, a *app, args []string) error {
	pos, err := a.parse("version", a.newFlagSet("version"), args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("version", "unexpected argument %q", pos[0])
	}
	c, err := a.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	info, err := c.ServerInfo(ctx)
	if a.cfg.JSON {
		// The client's version is worth printing when the server is away.
		out := map[string]any{"client_version": version.String()}
		if err == nil {
			b, merr := jsonLine.Marshal(info)
			if merr != nil {
				return merr
			}
			out["server"] = json.RawMessage(b)
		}
		line, merr := json.Marshal(out)
		if merr != nil {
			return merr
		}
		fmt.Fprintf(a.stdout, "%s\n", line)
		return wrapf("version", "", err)
	}
	w := newTable(a.stdout)
	row(w, "client", "energylabel "+version.String())
	if err != nil {
		w.Flush()
		return wrapf("version", "", err)
	}
	row(w, "server", "energylabeld "+orDash(info.GetVersion())+" at "+a.cfg.Addr)
	row(w, "public URL", orDash(info.GetBaseUrl()))
	row(w, "grade schemes", orDash(strings.Join(info.GetGradeSchemes(), ", ")))
	row(w, "star release", orDash(info.GetRelease()))
	row(w, "registries", fmt.Sprintf("%d tasks, %d datasets, %d accelerators", info.GetTasks(), info.GetDatasets(), info.GetAccelerators()))
	row(w, "revision", fmt.Sprint(info.GetRevision()))
	return w.Flush()
}
