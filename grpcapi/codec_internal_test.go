package grpcapi

import (
	"runtime"
	"testing"
	"time"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// An answer's pre-encoded bytes go once the answer is garbage.
func TestPreEncodedBytesGoWithTheirAnswer(t *testing.T) {
	count := func() (n int) {
		preEncoded.Range(func(any, any) bool { n++; return true })
		return n
	}
	before := count()
	for range 100 {
		preEncode(&energylabelv1.GetRatingResponse{Ratings: []*energylabelv1.Rating{{Model: "acme/x"}}})
	}
	for deadline := time.Now().Add(5 * time.Second); count() > before; {
		if time.Now().After(deadline) {
			t.Fatalf("%d pre-encoded answers still kept after their answers went", count()-before)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
