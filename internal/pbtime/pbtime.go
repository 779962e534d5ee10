// Package pbtime converts between times and protobuf timestamps, where the
// zero time and a missing timestamp stand for each other: the one helper
// the API's conversions and the stored records share.
package pbtime

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
)

// Timestamp is t as a message; nil for the zero time.
func Timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// Time is a message's time; the zero time for nil.
func Time(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}
