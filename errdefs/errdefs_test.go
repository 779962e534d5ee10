package errdefs_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/energylabel/energylabel/errdefs"
)

func TestKindOfFollowsTheChain(t *testing.T) {
	notFound := errdefs.New(errdefs.NotFound, "not found")
	for _, c := range []struct {
		err  error
		want errdefs.Kind
	}{
		{notFound, errdefs.NotFound},
		{fmt.Errorf("model acme/x: %w", notFound), errdefs.NotFound},
		{fmt.Errorf("read: %w", context.DeadlineExceeded), errdefs.DeadlineExceeded},
		{context.Canceled, errdefs.Canceled},
		{errors.New("disk on fire"), errdefs.Internal},
		{nil, errdefs.Internal},
	} {
		if got := errdefs.KindOf(c.err); got != c.want {
			t.Errorf("KindOf(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// A status a client receives reads back as the kind the server sent.
func TestACodeReadsBackAsItsKind(t *testing.T) {
	for _, k := range errdefs.Kinds() {
		if got := errdefs.OfCode(k.GRPCCode()); got != k {
			t.Errorf("%v: code %v reads back as %v", k, k.GRPCCode(), got)
		}
	}
	if got := errdefs.OfCode(codes.DataLoss); got != errdefs.Internal {
		t.Errorf("a code no kind has: %v", got)
	}
}

// table is the README's table of error kinds, made from the mapping.
func table() string {
	var b strings.Builder
	b.WriteString("| kind | gRPC code | HTTP status | CLI exit code |\n|---|---|---|---|\n")
	for _, k := range errdefs.Kinds() {
		fmt.Fprintf(&b, "| %s | `%s` | %d | %d |\n", k, k.GRPCCode(), k.HTTPStatus(), k.ExitCode())
	}
	return b.String()
}

func TestTheREADMEListsEveryKind(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- errors:start -->\n")
	got, _, ok2 := strings.Cut(rest, "<!-- errors:end -->")
	if !ok || !ok2 || got != table() {
		t.Errorf("README.md's table of error kinds, between <!-- errors:start --> and <!-- errors:end -->, should read:\n%s", table())
	}
}
