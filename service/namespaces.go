package service

import (
	"fmt"

	"github.com/energylabel/energylabel/rating"
)

// checkNamespaces refuses namespaces a token may not be made for: not a
// valid owner, leading, trailing or doubled '.', '-' or '_' (as the
// Hugging Face Hub refuses them), or one that looks like an existing
// namespace without being it: the same skeleton, lower case without '.',
// '-' and '_'. Existing namespaces are every token's, revoked ones
// included, every rated model's owner, and the token's own earlier ones.
// A namespace that exists as it is spelt is never refused for looking
// like another: its owner has it already.
func (s *Service) checkNamespaces(namespaces []string) error {
	var named []int
	for i, ns := range namespaces {
		if ns == "*" {
			continue
		}
		field := fmt.Sprintf("namespaces[%d]", i)
		if rating.ValidateModel(ns+"/x") != nil {
			return rating.Invalid(field, "%s is not a valid namespace", rating.Quote(ns))
		}
		if d := separatorProblem(ns); d != "" {
			return rating.Invalid(field, "%s %s", rating.Quote(ns), d)
		}
		named = append(named, i)
	}
	if len(named) == 0 {
		return nil
	}
	found := make([]lookalike, len(namespaces))
	see := func(existing string) {
		for _, i := range named {
			found[i].see(namespaces[i], existing)
		}
	}
	for _, t := range s.tokens.All() {
		for _, ns := range t.Namespaces {
			see(ns)
		}
	}
	s.index.EachOwner(see)
	for k, i := range named {
		for _, j := range named[:k] {
			found[i].see(namespaces[i], namespaces[j])
		}
		if f := found[i]; !f.exists && f.other != "" {
			return rating.Invalid(fmt.Sprintf("namespaces[%d]", i), "%s looks like the existing namespace %q", rating.Quote(namespaces[i]), f.other)
		}
	}
	return nil
}

// lookalike is what the existing namespaces say of a new one: whether it
// exists as it is spelt, and the first, in byte order, of those it looks
// like.
type lookalike struct {
	exists bool
	other  string
}

func (l *lookalike) see(ns, existing string) {
	switch {
	case existing == ns:
		l.exists = true
	case sameSkeleton(ns, existing) && (l.other == "" || existing < l.other):
		l.other = existing
	}
}

func isSeparator(c byte) bool { return c == '.' || c == '-' || c == '_' }

// separatorProblem says what is wrong with a namespace's '.', '-' and '_'.
func separatorProblem(ns string) string {
	switch {
	case isSeparator(ns[0]):
		return "starts with '.', '-' or '_'"
	case isSeparator(ns[len(ns)-1]):
		return "ends with '.', '-' or '_'"
	}
	for i := 1; i < len(ns); i++ {
		if isSeparator(ns[i]) && isSeparator(ns[i-1]) {
			return fmt.Sprintf("has %q: '.', '-' and '_' may not follow each other", ns[i-1:i+1])
		}
	}
	return ""
}

// sameSkeleton reports whether two namespaces look alike to a reader: the
// same once lower-cased without '.', '-' and '_'. Namespaces are ASCII.
func sameSkeleton(a, b string) bool {
	i, j := 0, 0
	for {
		for i < len(a) && isSeparator(a[i]) {
			i++
		}
		for j < len(b) && isSeparator(b[j]) {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if lowerASCII(a[i]) != lowerASCII(b[j]) {
			return false
		}
		i++
		j++
	}
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
