package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/energylabel/energylabel/client"
	"github.com/energylabel/energylabel/errdefs"
)

const defaultAddr = "127.0.0.1:50051"

// app is one invocation of the CLI: where it writes, its environment, and the
// configuration its flags resolve to.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	flags          globalFlags
	cfg            config
	// gpu opens the GPUs' management library for measure; nil is NVML.
	gpu func() (gpuLibrary, error)
}

// config is the resolved global configuration.
type config struct {
	Addr string
	// AddrFrom says where Addr came from, for messages: "-addr",
	// "ENERGYLABEL_ADDR" or "the default".
	AddrFrom string
	Token    string
	// TokenFrom says where Token came from: "-token" or
	// "ENERGYLABEL_TOKEN"; "" when there is none.
	TokenFrom string
	JSON      bool
	TLS       bool
	CACert    string
}

// globalFlags holds the global flags as given; nil means not given, so that
// the environment and the default can fill in.
type globalFlags struct {
	addr, token, caCert *string
	json, tls           *bool
}

// register adds the global flags to a flag set. It is called on the top-level
// set and on every command's set, so they may follow the command; the last
// one given wins.
func (g *globalFlags) register(fs *flag.FlagSet) {
	str := func(p **string) func(string) error {
		return func(s string) error { *p = &s; return nil }
	}
	boolean := func(p **bool) func(string) error {
		return func(s string) error {
			v, err := strconv.ParseBool(s)
			if err != nil {
				return err
			}
			*p = &v
			return nil
		}
	}
	fs.Func("addr", "server address `HOST:PORT`", str(&g.addr))
	fs.Func("token", "publisher or admin `token`", str(&g.token))
	fs.Func("ca", "PEM `file` of CA certificates to trust over TLS", str(&g.caCert))
	fs.Func("cacert", "the same as -ca", str(&g.caCert))
	fs.BoolFunc("json", "print one JSON object per line", boolean(&g.json))
	fs.BoolFunc("tls", "connect over TLS", boolean(&g.tls))
}

// resolve applies the order flag, then environment variable, then default.
func (g *globalFlags) resolve(getenv func(string) string) config {
	pick := func(flag *string, env, def string) string {
		if flag != nil {
			return *flag
		}
		if v := getenv(env); v != "" {
			return v
		}
		return def
	}
	c := config{
		Addr:     pick(g.addr, "ENERGYLABEL_ADDR", defaultAddr),
		AddrFrom: "the default",
		Token:    pick(g.token, "ENERGYLABEL_TOKEN", ""),
		CACert:   pick(g.caCert, "ENERGYLABEL_CACERT", ""),
	}
	switch {
	case g.addr != nil:
		c.AddrFrom = "-addr"
	case getenv("ENERGYLABEL_ADDR") != "":
		c.AddrFrom = "ENERGYLABEL_ADDR"
	}
	switch {
	case c.Token == "":
	case g.token != nil:
		c.TokenFrom = "-token"
	default:
		c.TokenFrom = "ENERGYLABEL_TOKEN"
	}
	if g.json != nil {
		c.JSON = *g.json
	}
	if g.tls != nil {
		c.TLS = *g.tls
	}
	return c
}

// newFlagSet returns a silent flag set carrying the global flags; usage
// text is ours.
func (a *app) newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a.flags.register(fs)
	return fs
}

// parseGlobal parses the flags before the command and returns the command
// name and its arguments.
func (a *app) parseGlobal(args []string) (name string, rest []string, err error) {
	fs := a.newFlagSet("energylabel")
	if err := fs.Parse(args); err != nil {
		return "", nil, flagError("", err)
	}
	a.cfg = a.flags.resolve(a.getenv)
	if fs.NArg() == 0 {
		return "", nil, usageErrorf("", "no command given")
	}
	return fs.Arg(0), fs.Args()[1:], nil
}

// parse parses a command's arguments, letting flags and positional arguments
// mix ("get MODEL -task T"), until "--". It then resolves the configuration.
func (a *app) parse(cmd string, fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, flagError(cmd, err)
		}
		consumed := len(args) - fs.NArg()
		rest := fs.Args()
		if consumed > 0 && args[consumed-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	a.cfg = a.flags.resolve(a.getenv)
	return positional, nil
}

func flagError(cmd string, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return &helpError{cmd: cmd}
	}
	return &usageError{msg: err.Error(), cmd: cmd}
}

// connectTimeout bounds each attempt to reach the server, so that a
// command against no server fails at once rather than after gRPC's 20 s.
const connectTimeout = 1500 * time.Millisecond

// dial connects to the configured server.
func (a *app) dial() (*client.Client, error) {
	if err := checkAddr(a.cfg.Addr); err != nil {
		return nil, briefUsageErrorf("", "%s %s: %v", a.cfg.AddrFrom, quoteShort(a.cfg.Addr), err)
	}
	opts := []client.Option{client.WithConnectTimeout(connectTimeout)}
	if a.cfg.Token != "" {
		opts = append(opts, client.WithToken(a.cfg.Token))
	}
	switch {
	case a.cfg.CACert != "":
		opts = append(opts, client.WithCAFile(a.cfg.CACert))
	case a.cfg.TLS:
		opts = append(opts, client.WithTLS(&tls.Config{MinVersion: tls.VersionTLS12}))
	}
	return client.Dial(a.cfg.Addr, opts...)
}

// dialWithToken connects for a command that needs a token, refusing
// before any call when none is given: need says which token, e.g. "a
// publisher token for the model's owner".
func (a *app) dialWithToken(cmd, need string) (*client.Client, error) {
	if a.cfg.Token == "" {
		return nil, errdefs.New(errdefs.Unauthenticated,
			fmt.Sprintf("%s: %s: no token: this needs %s; pass -token T or set ENERGYLABEL_TOKEN", cmd, errdefs.Unauthenticated, need))
	}
	return a.dial()
}

// checkAddr refuses an address that gRPC would take for something else:
// "127.0.0.1" without a port dials port 443. A gRPC target with a scheme
// ("dns:///host:port", "unix:/path") is left to gRPC.
func checkAddr(addr string) error {
	if strings.Contains(addr, ":///") || strings.HasPrefix(addr, "unix:") || strings.HasPrefix(addr, "unix-abstract:") {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	switch {
	case err != nil && strings.Contains(err.Error(), "missing port"), err == nil && port == "":
		return fmt.Errorf("no port: want HOST:PORT, e.g. %s", defaultAddr)
	case err != nil:
		return fmt.Errorf("want HOST:PORT, e.g. %s or [::1]:50051", defaultAddr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("port %s is not a number from 1 to 65535", quoteShort(port))
	}
	return nil
}

// stringList is a repeatable flag that also splits on commas.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}
