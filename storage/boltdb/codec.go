package boltdb

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage/internal/records"
)

func latestKey(c rating.Cohort, model string) []byte {
	var b bytes.Buffer
	b.WriteString(records.CohortKey(c))
	b.WriteByte(0)
	b.WriteString(model)
	return b.Bytes()
}

// historyKey orders the schema 4 to 6 history/ by model, then id; a
// model id holds no 0x00. Only migrations read it.
func historyKey(model string, id uint64) []byte {
	return append(append([]byte(model), 0), u64(id)...)
}

// modelPrefix is the start of every model-history/ key of a model: the
// model and 0x00 (a model id holds no 0x00).
func modelPrefix(model string) []byte {
	return append(append(make([]byte, 0, len(model)+1+cohortHistorySuffix), model...), 0)
}

// cohortHistorySuffix is the length of a model-history/ key after its
// model prefix: a cohort number and a result id.
const cohortHistorySuffix = 4 + 8

// modelHistoryKey orders a model's results by cohort number, then id.
func modelHistoryKey(model string, cohort uint32, id uint64) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(modelPrefix(model), cohort), id)
}

// parseModelHistoryKey splits a model-history/ key into its model, its
// cohort number and its result id.
func parseModelHistoryKey(k []byte) (model []byte, cohort uint32, id uint64, err error) {
	n := len(k) - cohortHistorySuffix - 1
	if n < 0 || k[n] != 0 {
		return nil, 0, 0, fmt.Errorf("model-history key %q is not a model, a cohort number and an id", k)
	}
	return k[:n], binary.BigEndian.Uint32(k[n+1:]), binary.BigEndian.Uint64(k[n+5:]), nil
}
