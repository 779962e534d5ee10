package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/energylabel/energylabel/internal/wire"
)

var verifyCommand = &command{
	name:    "verify",
	usage:   "verify [submit flags] FILE...",
	summary: "(surveyor) send your own measurement of another publisher's model",
	help:    verifyHelp,
	run:     runVerify,
}

const verifyHelp = `
  Market surveillance: a surveyor re-measures a model and sends the result,
  in any format submit reads, with the same flags. The server compares it
  with the model's current declared result in the same cohort, under the
  grade scheme's one-sided tolerance (10 % on the energy per unit in
  grade/2025.1): within it, the declared result is verified; outside it,
  under review until three more measurements, whose mean verifies or
  corrects it. Needs a surveyor token (token create -role surveyor).
`

func runVerify(ctx context.Context, a *app, args []string) error {
	batch, err := a.readResultFiles("verify", args)
	if err != nil {
		return err
	}
	c, err := a.dialWithToken("verify", "a surveyor token (energylabel token create -role surveyor)")
	if err != nil {
		return err
	}
	defer c.Close()
	w := newTable(a.stdout)
	if !a.cfg.JSON {
		row(w, "FILE", "MODEL", "CHECKED RESULT", "MEASURED", "DECLARED", "WITHIN", "STATUS")
	}
	for _, f := range batch {
		for i := range f.results {
			resp, err := c.Verify(ctx, wire.BenchmarkResult(&f.results[i]))
			if err != nil {
				w.Flush()
				return fmt.Errorf("verify %s: %w", f.name, err)
			}
			if a.cfg.JSON {
				if err := a.printJSON(resp); err != nil {
					return err
				}
				continue
			}
			r, v := resp.GetRating(), resp.GetRating().GetVerification()
			unit := r.GetUnit()
			row(w, f.name, r.GetModel(), strconv.FormatUint(resp.GetResultId(), 10),
				fmt.Sprintf("%.4g %s", resp.GetEnergyPerUnit(), unit), fmt.Sprintf("%.4g %s", v.GetDeclaredEnergyPerUnit(), unit),
				yesNo(resp.GetWithinTolerance()), v.GetStatus())
		}
	}
	return w.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
