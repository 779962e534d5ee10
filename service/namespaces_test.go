package service

import (
	"fmt"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/auth"
	"github.com/energylabel/energylabel/index"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/storagetest"
)

// BenchmarkCheckNamespaces is a token's namespace check against a read
// model of n current results from 5,000 owners, and 1,000 tokens: the walk
// it takes holds the index's read lock. (At 1,000,000 it took 1.4 s on a
// loaded 2-CPU machine, of which the index's own walk, with a callback
// that does nothing, took 0.7 s.)
func BenchmarkCheckNamespaces(b *testing.B) {
	for _, n := range []int{100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := &Service{index: index.New(), tokens: auth.New()}
			snap := &storage.Snapshot{}
			for i, acc := range storagetest.Synthetic(b, n) {
				acc.Result.Model = fmt.Sprintf("owner-%d/m-%d", i%5000, i)
				snap.Currents = append(snap.Currents, storage.CurrentOf(uint64(i+1), &acc))
			}
			s.index.Load(snap)
			for i := range 1000 {
				t, _ := auth.NewToken([]string{fmt.Sprintf("ns-%d", i)}, "", snap.Currents[0].ReceivedAt, snap.Currents[0].ReceivedAt.AddDate(1, 0, 0))
				s.tokens.Put(t)
			}
			b.ResetTimer()
			for b.Loop() {
				if err := s.checkNamespaces([]string{"acme-labs"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestNamespacesThatCannotPassForOthers(t *testing.T) {
	s := &Service{index: index.New(), tokens: auth.New()}
	snap := &storage.Snapshot{}
	for i, acc := range storagetest.Synthetic(t, 2) {
		acc.Result.Model = []string{"meta-llama/Llama-2-7b-hf", "Legacy_Org/m"}[i]
		snap.Currents = append(snap.Currents, storage.CurrentOf(uint64(i+1), &acc))
	}
	s.index.Load(snap)
	tok, _ := auth.NewToken([]string{"acme", "*"}, "", snap.Currents[0].ReceivedAt, snap.Currents[0].ReceivedAt.AddDate(1, 0, 0))
	s.tokens.Put(tok)
	for _, tt := range []struct {
		namespaces []string
		refused    string // what the error says; "" for accepted
	}{
		{[]string{"meta-llama"}, ""},
		{[]string{"Meta-Llama"}, `namespaces[0]: "Meta-Llama" looks like the existing namespace "meta-llama"`},
		{[]string{"meta_llama"}, `looks like the existing namespace "meta-llama"`},
		{[]string{"metallama"}, `looks like the existing namespace "meta-llama"`},
		{[]string{"META.LLAMA"}, `looks like the existing namespace "meta-llama"`},
		{[]string{"meta-llama."}, `"meta-llama." ends with`},
		{[]string{".meta-llama"}, `".meta-llama" starts with`},
		{[]string{"_meta"}, "starts with"},
		{[]string{"meta--llama"}, `has "--"`},
		{[]string{"meta-.llama"}, `has "-."`},
		{[]string{"meta__llama"}, `has "__"`},
		{[]string{"meta._llama"}, `has "._"`},
		{[]string{"a-c-m-e"}, `looks like the existing namespace "acme"`},
		{[]string{"acme", "ACME"}, `namespaces[1]: "ACME" looks like the existing namespace "acme"`},
		{[]string{"*", "new-org", "New.Org"}, `namespaces[2]: "New.Org" looks like the existing namespace "new-org"`},
		{[]string{"legacyorg"}, `looks like the existing namespace "Legacy_Org"`},
		{[]string{"Legacy_Org"}, ""},
		{[]string{"meta-llama-2"}, ""},
		{[]string{"*", "acme", "a.b-c_d"}, ""},
	} {
		err := s.checkNamespaces(tt.namespaces)
		switch {
		case tt.refused == "" && err != nil:
			t.Errorf("%q: %v, want accepted", tt.namespaces, err)
		case tt.refused != "" && (err == nil || !strings.Contains(err.Error(), tt.refused)):
			t.Errorf("%q: %v, want it refused saying %s", tt.namespaces, err, tt.refused)
		}
	}
	// A namespace that exists as it is spelt stays usable, whatever
	// look-alike an older token holds.
	old, _ := auth.NewToken([]string{"Meta-Llama"}, "", tok.CreatedAt, tok.ExpiresAt)
	s.tokens.Put(old)
	for _, ns := range []string{"meta-llama", "Meta-Llama"} {
		if err := s.checkNamespaces([]string{ns}); err != nil {
			t.Errorf("%q beside both spellings: %v", ns, err)
		}
	}
}
