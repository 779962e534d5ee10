package boltdb

import (
	"bytes"
	"encoding/binary"

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

// historyKey orders a model's results by id; a model id holds no 0x00.
func historyKey(model string, id uint64) []byte {
	return append(append([]byte(model), 0), u64(id)...)
}

// cohortPrefix is the start of every history-cohorts/ key of a model's
// results in a cohort: the model, 0x00, the cohort key, 0x00.
func cohortPrefix(model, cohortKey string) []byte {
	b := make([]byte, 0, len(model)+len(cohortKey)+2+8)
	b = append(append(b, model...), 0)
	return append(append(b, cohortKey...), 0)
}

// historyCohortKey orders a model's results in a cohort by id.
func historyCohortKey(model, cohortKey string, id uint64) []byte {
	return binary.BigEndian.AppendUint64(cohortPrefix(model, cohortKey), id)
}
