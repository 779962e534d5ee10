package wire

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
)

func TestRoundTripKeepsEveryField(t *testing.T) {
	r := rating.Result{
		Model: "acme/m", Task: "text-to-video", Dataset: "ml.energy/text-to-video", Accelerator: "B200", GPUCount: 2,
		Queries: 1000, FailedQueries: 3, GPUEnergyWh: 12.5, DurationSeconds: 60, RunEnergiesWh: []float64{6, 6.5},
		Output:         rating.Output{Tokens: 1, Images: 2, ImageWidth: 3, ImageHeight: 4, VideoFrames: 5, VideoWidth: 6, VideoHeight: 7, AudioSeconds: 8},
		ParamsBillions: 13, ActiveParamsBillions: 2.5, SizeClass: "", Precision: "bf16", BatchSize: 4, ToolName: "zeus", ToolVersion: "1",
		MeasuredAt: time.Date(2026, 2, 16, 0, 0, 0, 0, time.UTC), ThroughputTokensPerSecond: 99,
	}
	p := BenchmarkResult(&r)
	back := Result(p)
	if !proto.Equal(BenchmarkResult(&back), p) {
		t.Errorf("round trip changed the result:\n%v\n%v", p, BenchmarkResult(&back))
	}
	if back.MeasuredAt != r.MeasuredAt || back.Output != r.Output || back.GPUCount != 2 || back.ActiveParamsBillions != 2.5 {
		t.Errorf("round trip: %+v", back)
	}
}

// A label drawn from an API rating says when the result was received and
// which release its stars are of, whoever draws it: the server or the CLI.
func TestLabelRatingKeepsReceivedAndRelease(t *testing.T) {
	received := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p := &energylabelv1.Rating{Model: "acme/m", Task: "text-classification", Release: "aies-2025-02",
		ReceivedAt: timestamppb.New(received), Stars: proto.Int32(4)}
	lr := LabelRating(p, "https://example.org/models/acme/m")
	if !lr.Received.Equal(received) || lr.Release != "aies-2025-02" || lr.Stars != 4 || !lr.Date.IsZero() {
		t.Errorf("LabelRating: received %v, release %q, stars %d, date %v", lr.Received, lr.Release, lr.Stars, lr.Date)
	}
	if lr := LabelRating(&energylabelv1.Rating{}, ""); !lr.Received.IsZero() || lr.Release != "" {
		t.Errorf("an empty rating gives received %v, release %q", lr.Received, lr.Release)
	}
}
