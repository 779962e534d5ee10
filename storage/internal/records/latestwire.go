package records

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// LatestDecoder reads Latest records as CurrentOfLatest does, for a
// snapshot of millions of them: it reads the wire format itself instead of
// building a storev1.Latest, keeps one copy of each distinct task,
// dataset, size class, hardware, basis and tool string it meets, and
// copies model ids into shared blocks of modelBlock bytes rather than one
// allocation each. A snapshot of n records then costs the slice of
// Currents and about n model ids' bytes, in a handful of objects, which
// the collector does not walk one by one.
//
// A record it does not expect (a known field with another wire type, a
// message field twice, a string that is not UTF-8, an unknown basis) is
// read the slow way, with proto.Unmarshal and CurrentOfLatest, so that
// what Decode returns, errors included, is always what those return;
// TestLatestDecoderReadsAsCurrentOfLatest holds the two together. A field
// added to Latest must be added here too: the fast path skips a field it
// does not know, as proto.Unmarshal keeps it aside, which is right only
// for a field CurrentOfLatest ignores (TestLatestDecoderKnowsEveryField
// fails until it is).
//
// A decoder is not safe for concurrent use; use one per goroutine.
type LatestDecoder struct {
	// strs holds the distinct strings met, by their bytes.
	strs map[string]string
	// bases are the bases met, parsed.
	bases map[string]rating.Unit
	// block is the current block model ids are copied into; each id is
	// a substring of the block's string, and keeps the block alive.
	block *strings.Builder
	// last are the strings of the record before, by field number: a
	// snapshot read in key order meets the same cohort record after
	// record, and the same tool.
	last [lastFields]string
	rec  storev1.Latest
}

// modelBlock is the size of the blocks model ids are copied into.
const modelBlock = 64 << 10

// lastFields bounds the field numbers LatestDecoder.last remembers.
const lastFields = latestToolVersion

// NewLatestDecoder returns a decoder.
func NewLatestDecoder() *LatestDecoder {
	return &LatestDecoder{strs: map[string]string{}, bases: map[string]rating.Unit{}}
}

// The field numbers of storev1.Latest, storev1.Reference and
// google.protobuf.Timestamp.
const (
	latestResultID      = 1
	latestModel         = 2
	latestTask          = 3
	latestDataset       = 4
	latestSizeClass     = 5
	latestHardware      = 6
	latestBasis         = 7
	latestWhPer1k       = 8
	latestEnergyPerUnit = 9
	latestPowerChecked  = 10
	latestGPUCount      = 11
	latestParams        = 12
	latestMeasuredAt    = 13
	latestReceivedAt    = 14
	latestToolName      = 15
	latestToolVersion   = 16
	latestChecks        = 17
	latestFloorRatio    = 18
	latestSource        = 19
	latestCarried       = 20
	referenceResultID   = 1
	referenceX          = 2
	referenceWhPer1k    = 3
	timestampSeconds    = 1
	timestampNanos      = 2
)

// Decode reads one Latest record, as CurrentOfLatest(proto.Unmarshal(b))
// would; b is not kept.
func (d *LatestDecoder) Decode(b []byte) (storage.Current, error) {
	var c storage.Current
	err := d.DecodeTo(b, &c)
	return c, err
}

// DecodeTo is Decode into *c, which must be the zero Current: a record is
// written in place, field by field, which costs the garbage collector
// less, while it runs, than copying a whole Current into a slice. On an
// error *c is the zero Current.
func (d *LatestDecoder) DecodeTo(b []byte, c *storage.Current) error {
	if d.decode(b, c) {
		return nil
	}
	s, err := d.slow(b)
	if err != nil {
		*c = storage.Current{}
		return err
	}
	*c = s
	return nil
}

// slow reads a record the way the fast path stands in for.
func (d *LatestDecoder) slow(b []byte) (storage.Current, error) {
	d.rec.Reset()
	if err := proto.Unmarshal(b, &d.rec); err != nil {
		return storage.Current{}, err
	}
	return CurrentOfLatest(&d.rec)
}

// decode is the fast path, into the zero *c; it returns false when the
// record needs the slow one, leaving *c in part written.
func (d *LatestDecoder) decode(b []byte, c *storage.Current) bool {
	var (
		basis        []byte
		powerChecked bool
		checks       uint32
		source       storev1.Source
		seen         uint32 // message fields met: measured_at, received_at, carried_reference
	)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || !num.IsValid() {
			return false // the slow path names what is wrong
		}
		b = b[n:]
		var v uint64
		var s []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed64Type:
			v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			s, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return false
		}
		b = b[n:]
		if want, known := latestWireType(num); !known {
			continue // unknown: skipped, as CurrentOfLatest ignores it
		} else if want != typ {
			return false
		}
		switch num {
		case latestResultID:
			c.ID = v
		case latestModel:
			if !utf8.Valid(s) {
				return false
			}
			c.Model = d.model(s)
		case latestTask, latestDataset, latestSizeClass, latestHardware, latestToolName, latestToolVersion:
			str, valid := d.intern(num, s)
			if !valid {
				return false
			}
			switch num {
			case latestTask:
				c.Measure.Cohort.Task = str
			case latestDataset:
				c.Measure.Cohort.Dataset = str
			case latestSizeClass:
				c.Measure.Cohort.SizeClass = str
			case latestHardware:
				c.Measure.Cohort.Hardware = str
			case latestToolName:
				c.ToolName = str
			case latestToolVersion:
				c.ToolVersion = str
			}
		case latestBasis:
			basis = s
		case latestWhPer1k:
			c.Measure.WhPer1kQueries = math.Float64frombits(v)
		case latestEnergyPerUnit:
			c.Measure.EnergyPerUnit = math.Float64frombits(v)
		case latestPowerChecked:
			powerChecked = v != 0
		case latestGPUCount:
			c.GPUCount = int(int32(v))
		case latestParams:
			c.ParamsBillions = math.Float64frombits(v)
		case latestMeasuredAt, latestReceivedAt, latestCarried:
			bit := uint32(1) << (num - latestMeasuredAt)
			if seen&bit != 0 {
				return false // merged by proto.Unmarshal: the slow path's
			}
			seen |= bit
			var fine bool
			switch num {
			case latestMeasuredAt:
				c.MeasuredAt, fine = timestamp(s)
			case latestReceivedAt:
				c.ReceivedAt, fine = timestamp(s)
			default:
				c.Carried, fine = reference(s)
			}
			if !fine {
				return false
			}
		case latestChecks:
			checks = uint32(v)
		case latestFloorRatio:
			c.Measure.FloorRatio = math.Float64frombits(v)
		case latestSource:
			source = storev1.Source(int32(v))
		}
	}
	u, known := d.basis(basis)
	if !known {
		return false
	}
	c.Measure.Cohort.Basis = u
	c.Measure.Checks = rating.Checks(checks)
	if powerChecked {
		c.Measure.Checks |= rating.CheckPower
	}
	c.Source = sourceOf(source, "")
	return true
}

// latestWireType is the wire type of a Latest field, and whether the
// field is known.
func latestWireType(num protowire.Number) (protowire.Type, bool) {
	switch num {
	case latestResultID, latestPowerChecked, latestGPUCount, latestChecks, latestSource:
		return protowire.VarintType, true
	case latestModel, latestTask, latestDataset, latestSizeClass, latestHardware, latestBasis,
		latestMeasuredAt, latestReceivedAt, latestToolName, latestToolVersion, latestCarried:
		return protowire.BytesType, true
	case latestWhPer1k, latestEnergyPerUnit, latestParams, latestFloorRatio:
		return protowire.Fixed64Type, true
	}
	return 0, false
}

// model copies a model id into the current block.
func (d *LatestDecoder) model(s []byte) string {
	if len(s) == 0 {
		return ""
	}
	if d.block == nil || d.block.Cap()-d.block.Len() < len(s) {
		if len(s) > modelBlock/4 {
			return string(s) // a long one is not worth a block
		}
		d.block = new(strings.Builder)
		d.block.Grow(modelBlock)
	}
	at := d.block.Len()
	d.block.Write(s)
	return d.block.String()[at:]
}

// intern is the one copy of a field's string, and false if it is not
// UTF-8 (which proto.Unmarshal refuses).
func (d *LatestDecoder) intern(num protowire.Number, s []byte) (string, bool) {
	if last := d.last[num-1]; len(last) == len(s) && last == string(s) {
		return last, true
	}
	str, ok := d.strs[string(s)]
	if !ok {
		if !utf8.Valid(s) {
			return "", false
		}
		str = string(s)
		d.strs[str] = str
	}
	d.last[num-1] = str
	return str, true
}

// basis parses a basis, remembering each.
func (d *LatestDecoder) basis(s []byte) (rating.Unit, bool) {
	if u, ok := d.bases[string(s)]; ok {
		return u, true
	}
	u, ok := rating.ParseUnit(string(s)) // only ASCII names parse
	if ok {
		d.bases[string(s)] = u
	}
	return u, ok
}

// timestamp reads a google.protobuf.Timestamp as TimeOf and CanonicalTime
// do: present, it is a time even when empty.
func timestamp(b []byte) (time.Time, bool) {
	var secs, nanos int64
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return time.Time{}, false
		}
		b = b[n:]
		if num != timestampSeconds && num != timestampNanos || typ != protowire.VarintType {
			return time.Time{}, false
		}
		v, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return time.Time{}, false
		}
		b = b[n:]
		if num == timestampSeconds {
			secs = int64(v)
		} else {
			nanos = int64(int32(v))
		}
	}
	return time.Unix(secs, nanos).UTC(), true
}

// reference reads a storev1.Reference as referenceOf does.
func reference(b []byte) (storage.Reference, bool) {
	var r storage.Reference
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return r, false
		}
		b = b[n:]
		switch {
		case num == referenceResultID && typ == protowire.VarintType:
			r.ResultID, n = protowire.ConsumeVarint(b)
		case (num == referenceX || num == referenceWhPer1k) && typ == protowire.Fixed64Type:
			var v uint64
			v, n = protowire.ConsumeFixed64(b)
			if num == referenceX {
				r.X = math.Float64frombits(v)
			} else {
				r.WhPer1k = math.Float64frombits(v)
			}
		default:
			return r, false
		}
		if n < 0 {
			return r, false
		}
		b = b[n:]
	}
	return r, true
}
