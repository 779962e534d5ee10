package records

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// slowLatest is what LatestDecoder stands in for.
func slowLatest(b []byte) (storage.Current, error) {
	var p storev1.Latest
	if err := proto.Unmarshal(b, &p); err != nil {
		return storage.Current{}, err
	}
	return CurrentOfLatest(&p)
}

// latestCases are Latest records as the backends write them, and as they
// may not: every field set, none, present but empty times, values out of
// their Go types' range, unknown fields, fields twice, and damage.
func latestCases(t testing.TB) [][]byte {
	t.Helper()
	at := time.Date(2025, 3, 4, 5, 6, 7, 891011121, time.UTC)
	full := storage.Current{ID: 42, Model: "acme/llama-ft-001",
		Measure: rating.Measure{Cohort: rating.Cohort{Task: "text-generation", Dataset: "ml.energy/lm-arena-chat", SizeClass: "A", Hardware: "H100", Basis: rating.OutputToken},
			WhPer1kQueries: 1.5, EnergyPerUnit: 0.125, Checks: rating.CheckPower | rating.CheckRate, FloorRatio: 3.25},
		GPUCount: 8, ParamsBillions: 7.5, MeasuredAt: at, ReceivedAt: at.Add(time.Hour), ToolName: "optimum-benchmark", ToolVersion: "0.4.0",
		Source: rating.Publisher, Carried: storage.Reference{ResultID: 7, X: 0.25, WhPer1k: 2}}
	var out [][]byte
	add := func(m proto.Message) {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	add(Latest(&full))
	pub := full
	pub.Source, pub.Carried, pub.MeasuredAt = rating.Published, storage.Reference{}, time.Time{}
	add(Latest(&pub))
	add(&storev1.Latest{})
	add(&storev1.Latest{Basis: "query", PowerChecked: true, Checks: 0x1ff, GpuCount: -3, Source: 7,
		MeasuredAt: &timestamppb.Timestamp{}, ReceivedAt: &timestamppb.Timestamp{Seconds: -62135596800},
		CarriedReference: &storev1.Reference{}})
	add(&storev1.Latest{Basis: "furlong", ResultId: 9})
	add(&storev1.Latest{Basis: "query", Model: "a/b", MeasuredAt: &timestamppb.Timestamp{Seconds: 1, Nanos: -5}})
	base := out[0]
	// An unknown field, varint and bytes, is skipped.
	out = append(out, protowire.AppendVarint(protowire.AppendTag(clone(base), 99, protowire.VarintType), 5))
	out = append(out, protowire.AppendString(protowire.AppendTag(clone(base), 21, protowire.BytesType), "x"))
	// A scalar twice: the last one counts.
	out = append(out, protowire.AppendString(protowire.AppendTag(clone(base), latestModel, protowire.BytesType), "other/model"))
	out = append(out, protowire.AppendFixed64(protowire.AppendTag(clone(base), latestEnergyPerUnit, protowire.Fixed64Type), 0x4000000000000000))
	// A message twice is merged.
	ts := protowire.AppendVarint(protowire.AppendTag(nil, timestampNanos, protowire.VarintType), 17)
	out = append(out, protowire.AppendBytes(protowire.AppendTag(clone(base), latestMeasuredAt, protowire.BytesType), ts))
	// A known field with another wire type is an unknown one to proto.
	out = append(out, protowire.AppendVarint(protowire.AppendTag(clone(base), latestModel, protowire.VarintType), 1))
	// Not UTF-8.
	out = append(out, protowire.AppendString(protowire.AppendTag(clone(base), latestModel, protowire.BytesType), "a/\xff"))
	out = append(out, protowire.AppendString(protowire.AppendTag(clone(base), latestTask, protowire.BytesType), "\xfe"))
	// Cut short, and garbage.
	out = append(out, base[:len(base)-3], base[:1], []byte{0xff, 0xff, 0xff}, []byte{0})
	return out
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

func TestLatestDecoderReadsAsCurrentOfLatest(t *testing.T) {
	d := NewLatestDecoder()
	for round := range 2 { // the second from what the decoder remembers
		for i, b := range latestCases(t) {
			want, werr := slowLatest(b)
			got, err := d.Decode(b)
			// Compared as printed: a NaN figure is equal to itself there.
			if fmt.Sprint(err) != fmt.Sprint(werr) || fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
				t.Errorf("round %d, case %d:\n got %+v, %v\nwant %+v, %v", round, i, got, err, want, werr)
			}
		}
	}
	// The fast path takes a record as the backends write it.
	b, _ := proto.Marshal(Latest(&storage.Current{ID: 1, Model: "a/b", MeasuredAt: time.Unix(5, 0).UTC()}))
	if !d.decode(b, new(storage.Current)) {
		t.Error("a well-formed record took the slow path")
	}
}

// Every field of Latest is one the fast path reads, with its wire type: a
// field added to the message must be added to the decoder.
func TestLatestDecoderKnowsEveryField(t *testing.T) {
	fields := (&storev1.Latest{}).ProtoReflect().Descriptor().Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		want := protowire.BytesType
		switch f.Kind() {
		case protoreflect.DoubleKind:
			want = protowire.Fixed64Type
		case protoreflect.BoolKind, protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Uint32Kind, protoreflect.Uint64Kind:
			want = protowire.VarintType
		}
		if typ, known := latestWireType(f.Number()); !known || typ != want {
			t.Errorf("field %d (%s) is not read by LatestDecoder as %v", f.Number(), f.Name(), want)
		}
	}
}

// Model ids share blocks: many records cost few allocations.
func TestLatestDecoderAllocatesLittle(t *testing.T) {
	d := NewLatestDecoder()
	var recs [][]byte
	for i := range 1000 {
		c := storage.Current{ID: uint64(i + 1), Model: fmt.Sprintf("lab-%d/model-%06d", i%50, i),
			Measure:  rating.Measure{Cohort: rating.Cohort{Task: "text-classification", Hardware: "H100"}, EnergyPerUnit: float64(i)},
			ToolName: "optimum-benchmark", ToolVersion: "0.4.0", MeasuredAt: time.Unix(int64(i), 0).UTC()}
		b, _ := proto.Marshal(Latest(&c))
		recs = append(recs, b)
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := d.Decode(recs[i%len(recs)]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs > 0.1 {
		t.Errorf("%.2f allocations a record", allocs)
	}
}

func FuzzLatestDecoder(f *testing.F) {
	for _, b := range latestCases(f) {
		f.Add(b)
	}
	d := NewLatestDecoder()
	f.Fuzz(func(t *testing.T, b []byte) {
		want, werr := slowLatest(b)
		got, err := d.Decode(b)
		// Compared as printed: a NaN figure is equal to itself there.
		if fmt.Sprint(err) != fmt.Sprint(werr) || fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
			t.Errorf("got %+v, %v\nwant %+v, %v", got, err, want, werr)
		}
	})
}

func BenchmarkLatestDecoder(b *testing.B) {
	c := storage.Current{ID: 123456, Model: "lab-123/llama-ft-000042",
		Measure:  rating.Measure{Cohort: rating.Cohort{Task: "text-generation", Dataset: "AIEnergyScore/text_generation", SizeClass: "A", Hardware: "H100"}, EnergyPerUnit: 9.5, WhPer1kQueries: 9.5},
		GPUCount: 1, ParamsBillions: 7, ToolName: "optimum-benchmark", ToolVersion: "0.4.0",
		MeasuredAt: time.Unix(1700000000, 0).UTC(), ReceivedAt: time.Unix(1700000001, 5).UTC(), Source: rating.Published}
	rec, _ := proto.Marshal(Latest(&c))
	b.Run("decoder", func(b *testing.B) {
		b.ReportAllocs()
		d := NewLatestDecoder()
		for b.Loop() {
			if _, err := d.Decode(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("proto", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := slowLatest(rec); err != nil {
				b.Fatal(err)
			}
		}
	})
}
