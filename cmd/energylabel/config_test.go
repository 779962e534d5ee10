package main

import (
	"flag"
	"io"
	"slices"
	"testing"
	"time"
)

// parsed parses a command line the way run does, with a given environment,
// for a command with a -task flag.
func parsed(t *testing.T, env map[string]string, args ...string) (config, []string, string) {
	t.Helper()
	a := &app{stdout: io.Discard, stderr: io.Discard, getenv: func(k string) string { return env[k] }}
	name, rest, err := a.parseGlobal(args)
	if err != nil {
		t.Fatalf("parseGlobal(%q): %v", args, err)
	}
	fs := a.newFlagSet(name)
	task := fs.String("task", "", "")
	pos, err := a.parse(name, fs, rest)
	if err != nil {
		t.Fatalf("parse(%q): %v", args, err)
	}
	return a.cfg, pos, *task
}

func TestConfigPrecedenceIsFlagThenEnvThenDefault(t *testing.T) {
	env := map[string]string{"ENERGYLABEL_ADDR": "env:1", "ENERGYLABEL_TOKEN": "env-token"}
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		addr, tok string
		json      bool
	}{
		{"defaults", nil, []string{"list"}, defaultAddr, "", false},
		{"environment over default", env, []string{"list"}, "env:1", "env-token", false},
		{"flag before the command over environment", env, []string{"-addr", "flag:2", "-token", "t", "-json", "list"}, "flag:2", "t", true},
		{"flag after the command over environment", env, []string{"list", "-task", "asr", "-json", "-addr", "flag:3", "-token=t2"}, "flag:3", "t2", true},
		{"the last flag wins", nil, []string{"-addr", "first:1", "list", "-addr", "second:2"}, "second:2", "", false},
		{"an empty flag beats the environment", env, []string{"list", "-token", ""}, "env:1", "", false},
		{"-json=false after -json", nil, []string{"-json", "list", "-json=false"}, defaultAddr, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, _ := parsed(t, tt.env, tt.args...)
			if cfg.Addr != tt.addr || cfg.Token != tt.tok || cfg.JSON != tt.json {
				t.Errorf("config = %+v, want addr %q token %q json %v", cfg, tt.addr, tt.tok, tt.json)
			}
		})
	}
}

func TestFlagsAndArgumentsMix(t *testing.T) {
	tests := []struct {
		args []string
		pos  []string
		task string
	}{
		{[]string{"get", "acme/x", "-task", "asr"}, []string{"acme/x"}, "asr"},
		{[]string{"get", "-task", "asr", "acme/x"}, []string{"acme/x"}, "asr"},
		{[]string{"submit", "a.json", "-json", "b.json"}, []string{"a.json", "b.json"}, ""},
		{[]string{"submit", "--", "-odd-name.json", "-task"}, []string{"-odd-name.json", "-task"}, ""},
		{[]string{"submit", "a.json", "--", "-b.json"}, []string{"a.json", "-b.json"}, ""},
		{[]string{"submit", "-"}, []string{"-"}, ""},
	}
	for _, tt := range tests {
		_, pos, task := parsed(t, nil, tt.args...)
		if !slices.Equal(pos, tt.pos) || task != tt.task {
			t.Errorf("%q: positional %q task %q, want %q %q", tt.args, pos, task, tt.pos, tt.task)
		}
	}
}

func TestNamespacesRepeatAndSplitOnCommas(t *testing.T) {
	var l stringList
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Var(&l, "namespace", "")
	if err := fs.Parse([]string{"-namespace", "org-a,org-b", "-namespace", " org-c ", "-namespace", ","}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l, stringList{"org-a", "org-b", "org-c"}) {
		t.Errorf("namespaces = %q", l)
	}
}

func TestParseLifetime(t *testing.T) {
	good := map[string]time.Duration{"720h": 720 * time.Hour, "30d": 30 * 24 * time.Hour, "90m": 90 * time.Minute}
	for s, want := range good {
		if got, err := parseLifetime(s); err != nil || got != want {
			t.Errorf("parseLifetime(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "soon", "-1h", "0d", "xd", "0s"} {
		if _, err := parseLifetime(s); err == nil {
			t.Errorf("parseLifetime(%q) succeeded", s)
		}
	}
}

func TestNum(t *testing.T) {
	tests := map[float64]string{0: "0", 0.04235: "0.04235", 1.23456: "1.235", 123.456: "123.5", 2370.4: "2370", 123456.7: "123457", 1e-6: "0.000001", 1.2345e-7: "0.0000001235"}
	for v, want := range tests {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
}
