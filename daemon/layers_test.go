package daemon

import (
	"go/build"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/energylabel/energylabel/"

// TestArrowsRunOneWay checks the layout's arrows, as package imports:
// the domain and the service know no transport, the surfaces know each
// other not at all, and only the daemon wires them together.
func TestArrowsRunOneWay(t *testing.T) {
	transports := []string{"google.golang.org/grpc", "net/http", "connectrpc.com/"}
	for _, c := range []struct {
		pkg    string
		refuse []string // import path prefixes it must not import
	}{
		{"rating", append([]string{module + "service", module + "storage", module + "grpcapi", module + "web", module + "limits", "os", "io/fs"}, transports...)},
		{"storage", []string{module + "service", module + "grpcapi", module + "web", module + "limits", module + "index"}},
		{"index", append([]string{module + "service", module + "grpcapi", module + "web"}, transports...)},
		{"limits", append([]string{module + "service", module + "grpcapi", module + "web", module + "storage"}, transports...)},
		{"service", append([]string{module + "grpcapi", module + "web", module + "daemon", module + "proto/"}, transports...)},
		{"grpcapi", []string{module + "web", module + "daemon"}},
		{"web", []string{module + "grpcapi", module + "daemon", "google.golang.org/grpc", "connectrpc.com/"}},
	} {
		p, err := build.ImportDir(filepath.Join("..", c.pkg), 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range p.Imports {
			if slices.ContainsFunc(c.refuse, func(prefix string) bool { return imp == prefix || strings.HasPrefix(imp, prefix) }) {
				t.Errorf("package %s imports %s: an arrow that runs the wrong way", c.pkg, imp)
			}
		}
	}
}
