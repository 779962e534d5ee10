package gpufacts

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

func TestFiguresAreTheRecordedOnes(t *testing.T) {
	for file, r := range map[string]Run{"testdata/nvml-h100.json": H100, "testdata/nvml-h200.json": H200} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Name       string  `json:"nvml_name"`
			Limit      float64 `json:"power_limit_w"`
			Seconds    float64 `json:"seconds"`
			Wh         float64 `json:"wh"`
			Max        float64 `json:"max_sample_w"`
			AvgW       float64 `json:"avg_w"`
			IdleMedian float64 `json:"idle_w_median"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		if m.Name != r.Name || m.Limit != r.PowerLimitWatts || m.Seconds != r.Seconds || m.Wh != r.Wh || m.Max != r.PeakWatts ||
			math.Abs(m.AvgW-r.AvgWatts()) > 1e-9 || (m.IdleMedian != 0 && m.IdleMedian != r.IdleWatts) {
			t.Errorf("%s: %+v, want the file's %+v", file, r, m)
		}
		if e := r.EnergyJ(r.Seconds); math.Abs(e-r.Wh*3600) > 1e-6 {
			t.Errorf("%s: synthesised energy %v J, want %v", file, e, r.Wh*3600)
		}
		for tt := 0.0; tt < r.Seconds; tt += 0.01 {
			if p := r.Power(tt); p > r.PeakWatts+1e-9 || p < r.IdleWatts {
				t.Fatalf("%s: power %v W at %v s outside [idle, peak]", file, p, tt)
			}
		}
	}
}
