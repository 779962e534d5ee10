package boltdb

import (
	"bytes"

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
