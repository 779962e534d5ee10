package main

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

var tokenCommand = &command{
	name:    "token",
	usage:   "token create -namespace NS | -role surveyor",
	summary: "(admin) print a new publisher or surveyor token, alone on stdout, once; also token revoke ID, token list",
	help:    tokenHelp,
	run:     runToken,
}

const tokenHelp = `
  token create -namespace NS [-expires D]
                  prints a new publisher token alone on stdout, once; its id goes to stderr
    -namespace NS   model owner the token may publish for; repeat or separate with
                    commas; "*" for all
    -expires D      lifetime, e.g. 720h or 30d; default never
                  A namespace that starts or ends with '.', '-' or '_', has two of
                  them together, or looks like an existing namespace (the same
                  once lower-cased without '.', '-' and '_') is refused.
  token create -role surveyor [-expires D]
                  prints a new surveyor token: it verifies any namespace's models
                  (energylabel verify) and submits no declared results
  token revoke ID   revokes a token at once
  token list        lists tokens with their roles, without their secrets
`

func runToken(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		return briefUsageErrorf("token", "token: missing subcommand: create, revoke or list (see 'energylabel help token')")
	}
	switch args[0] {
	case "create":
		return runTokenCreate(ctx, a, args[1:])
	case "revoke":
		return runTokenRevoke(ctx, a, args[1:])
	case "list":
		return runTokenList(ctx, a, args[1:])
	case "-h", "-help", "--help":
		return &helpError{cmd: "token"}
	}
	return usageErrorf("token", "unknown token subcommand %q", args[0])
}

func runTokenCreate(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("token create")
	var namespaces stringList
	fs.Var(&namespaces, "namespace", "")
	expires := fs.String("expires", "", "")
	role := fs.String("role", "publisher", "")
	pos, err := a.parse("token", fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("token", "unexpected argument %q", pos[0])
	}
	switch {
	case *role != "publisher" && *role != "surveyor":
		return briefUsageErrorf("token", "token create: -role %s: want publisher or surveyor", quoteShort(*role))
	case *role == "surveyor" && len(namespaces) > 0:
		return briefUsageErrorf("token", "token create: a surveyor token takes no -namespace: it verifies every namespace's models and writes none")
	case *role == "publisher" && len(namespaces) == 0:
		return missingFlags("token create", "-namespace NS (or -role surveyor)")
	}
	var expiresAt time.Time
	if *expires != "" {
		d, err := parseLifetime(*expires)
		if err != nil {
			return usageErrorf("token", "-expires: %v", err)
		}
		expiresAt = time.Now().Add(d)
	}
	c, err := a.dialWithToken("token create", "the admin token")
	if err != nil {
		return err
	}
	defer c.Close()
	create := func() (string, string, error) { return c.CreateToken(ctx, namespaces, expiresAt) }
	if *role == "surveyor" {
		create = func() (string, string, error) { return c.CreateSurveyorToken(ctx, expiresAt) }
	}
	id, token, err := create()
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	if a.cfg.JSON {
		return a.printJSON(&energylabelv1.CreateTokenResponse{Id: id, Token: token})
	}
	// The secret alone on stdout, so that TOKEN=$(energylabel token create ...) works.
	fmt.Fprintf(a.stderr, "created token %s\n", id)
	_, err = fmt.Fprintln(a.stdout, token)
	return err
}

// parseLifetime parses a Go duration, or a whole number of days as "30d".
func parseLifetime(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration such as 720h or 30d", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration such as 720h or 30d", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration", s)
	}
	return d, nil
}

func runTokenRevoke(ctx context.Context, a *app, args []string) error {
	pos, err := a.parse("token", a.newFlagSet("token revoke"), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("token", "token revoke needs exactly one token ID")
	}
	c, err := a.dialWithToken("token revoke", "the admin token")
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.RevokeToken(ctx, pos[0]); err != nil {
		return wrapf("token revoke", pos[0], err)
	}
	fmt.Fprintf(a.stderr, "revoked token %s\n", pos[0])
	return nil
}

func runTokenList(ctx context.Context, a *app, args []string) error {
	pos, err := a.parse("token", a.newFlagSet("token list"), args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("token", "unexpected argument %q", pos[0])
	}
	c, err := a.dialWithToken("token list", "the admin token")
	if err != nil {
		return err
	}
	defer c.Close()
	ts, err := c.ListTokens(ctx)
	if err != nil {
		return fmt.Errorf("token list: %w", err)
	}
	if a.cfg.JSON {
		for _, t := range ts {
			if err := a.printJSON(t); err != nil {
				return err
			}
		}
		return nil
	}
	w := newTable(a.stdout)
	row(w, "ID", "ROLE", "NAMESPACES", "CREATED", "LAST USED", "EXPIRES", "REVOKED")
	for _, t := range ts {
		row(w, t.GetId(), cmp.Or(t.GetRole(), "publisher"), orDash(strings.Join(t.GetNamespaces(), ",")), when(t.GetCreatedAt()),
			when(t.GetLastUsedAt()), when(t.GetExpiresAt()), strconv.FormatBool(t.GetRevoked()))
	}
	return w.Flush()
}

func when(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}
