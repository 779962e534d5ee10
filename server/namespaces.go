package server

import (
	"fmt"
	"strings"

	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/rating"
)

// checkNamespaces refuses namespaces a token may not be made for: not a
// valid owner, leading, trailing or doubled '.', '-' or '_' (as the
// Hugging Face Hub refuses them), or one that looks like an existing
// namespace — of a token or of a rated model — without being it: the same
// skeleton, lower case without '.', '-' and '_'.
func (s *Server) checkNamespaces(namespaces []string) error {
	var existing map[string]string
	for i, ns := range namespaces {
		field := fmt.Sprintf("namespaces[%d]", i)
		if ns == "*" {
			continue
		}
		if rating.ValidateModel(ns+"/x") != nil {
			return rating.Invalid(field, "%s is not a valid namespace", rating.Quote(ns))
		}
		if d := separatorProblem(ns); d != "" {
			return rating.Invalid(field, "%s %s", rating.Quote(ns), d)
		}
		if existing == nil {
			existing = s.namespaceSkeletons()
		}
		if other, ok := existing[skeleton(ns)]; ok && other != ns {
			return rating.Invalid(field, "%s looks like the existing namespace %q", rating.Quote(ns), other)
		}
	}
	return nil
}

// separatorProblem says what is wrong with a namespace's '.', '-' and '_'.
func separatorProblem(ns string) string {
	isSep := func(c byte) bool { return c == '.' || c == '-' || c == '_' }
	switch {
	case isSep(ns[0]):
		return "starts with '.', '-' or '_'"
	case isSep(ns[len(ns)-1]):
		return "ends with '.', '-' or '_'"
	}
	for i := 1; i < len(ns); i++ {
		if isSep(ns[i]) && isSep(ns[i-1]) {
			return fmt.Sprintf("has %q: '.', '-' and '_' may not follow each other", ns[i-1:i+1])
		}
	}
	return ""
}

// skeleton is how a namespace looks to a reader: lower case, without
// '.', '-' and '_'.
func skeleton(ns string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r == '_' {
			return -1
		}
		return r
	}, strings.ToLower(ns))
}

// namespaceSkeletons maps the skeleton of every existing namespace, of
// tokens and of rated models, to the namespace. It walks the read model:
// creating a token is an admin's rare call.
func (s *Server) namespaceSkeletons() map[string]string {
	out := map[string]string{}
	for _, t := range s.tokens.All() {
		for _, ns := range t.Namespaces {
			if ns != "*" {
				out[skeleton(ns)] = ns
			}
		}
	}
	s.index.EachLatest(func(e *index.Entry) {
		owner, _, _ := strings.Cut(e.Model, "/")
		if _, ok := out[skeleton(owner)]; !ok {
			out[skeleton(owner)] = owner
		}
	})
	return out
}
