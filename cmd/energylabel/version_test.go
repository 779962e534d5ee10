package main

import (
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	"github.com/energylabel/energylabel/internal/version"
)

func TestVersionPrintsTheClientsAndTheServers(t *testing.T) {
	srv := servertest.Start(t)
	code, stdout, stderr := cli(t, "-addr", srv.Addr, "version")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"client         energylabel " + version.String() + "\n",
		"server         energylabeld ",
		" at " + srv.Addr + "\n",
		"public URL     http://" + srv.HTTPAddr + "\n",
		"grade schemes  grade/2025.1\n",
		"star release   -\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("version does not say %q:\n%s", want, stdout)
		}
	}

	code, stdout, _ = cli(t, "-addr", srv.Addr, "-json", "version")
	var v struct {
		Client string `json:"client_version"`
		Server struct {
			BaseURL string `json:"base_url"`
			Version string `json:"version"`
		} `json:"server"`
	}
	if err := json.Unmarshal([]byte(stdout), &v); code != 0 || err != nil || strings.Count(stdout, "\n") != 1 {
		t.Fatalf("version -json: exit %d, %v: %q", code, err, stdout)
	}
	if v.Client != version.String() || v.Server.BaseURL != "http://"+srv.HTTPAddr || v.Server.Version == "" {
		t.Errorf("version -json = %+v", v)
	}

	// Without a server, the client's version still, and the error.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	code, stdout, stderr = cli(t, "-addr", addr, "version")
	if stdout != "client  energylabel "+version.String()+"\n" {
		t.Errorf("stdout %q, want the client's version", stdout)
	}
	wantOneLineError(t, code, stderr, "version: cannot reach a server at "+addr)
}
