package index

import (
	"context"
	"testing"
	"time"

	"github.com/energylabel/energylabel/storage"
)

// A revision split across watch responses is applied as it comes, but the
// index's revision, which writers wait for, moves to it only once it is
// whole; its first part applied again, as a follower that resumes from
// the revision before gets it, changes nothing.
func TestAPartlyAppliedRevisionDoesNotAdvance(t *testing.T) {
	ix := New()
	ix.Apply([]storage.Event{added(1, 1, "a/one", clf, 1)}, true)
	ix.Apply([]storage.Event{added(2, 2, "a/two", clf, 2), added(3, 3, "a/three", clf, 3), added(3, 4, "a/four", clf, 4)}, false)
	if got := ix.Revision(); got != 2 {
		t.Fatalf("revision %d after revision 3 in part, want 2", got)
	}
	if _, ok := ix.Rating("a/three", clf); !ok {
		t.Error("the part of revision 3 applied is not in the index")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := ix.WaitFor(ctx, 3); err == nil {
		t.Error("WaitFor(3) returned before revision 3 was whole")
	}
	// A re-watch from revision 2 sends revision 3 again from its start.
	ix.Apply([]storage.Event{added(3, 3, "a/three", clf, 3), added(3, 4, "a/four", clf, 4)}, false)
	ix.Apply([]storage.Event{added(3, 5, "a/five", clf, 5)}, true)
	if got := ix.Revision(); got != 3 {
		t.Errorf("revision %d once revision 3 is whole, want 3", got)
	}
	if n := ix.Count(); n != 5 {
		t.Errorf("%d entries, want 5: a part applied twice counts once", n)
	}
	if err := ix.WaitFor(context.Background(), 3); err != nil {
		t.Error(err)
	}
}
