package label

import (
	"encoding/json"
	"strings"
)

// endpoint is shields.io's endpoint schema, version 1: what
// https://img.shields.io/endpoint?url=… draws a badge from. shields refuses
// unknown keys, so there are none.
type endpoint struct {
	SchemaVersion int    `json:"schemaVersion"`
	Label         string `json:"label"`
	Message       string `json:"message"`
	Color         string `json:"color"`
	IsError       bool   `json:"isError,omitempty"`
	Style         string `json:"style,omitempty"`
	CacheSeconds  int    `json:"cacheSeconds,omitempty"`
}

// Endpoint is the badge as shields.io's endpoint JSON. style, when not
// Flat, asks shields for that style; cacheSeconds is how long shields may
// keep it (shields keeps it at least 300 s whatever it says).
func (b BadgeText) Endpoint(style Style, cacheSeconds int) []byte {
	e := endpoint{
		SchemaVersion: 1,
		Label:         clean(b.Label),
		Message:       b.message(false),
		// shields reads a bare hex triplet as a colour.
		Color:        strings.TrimPrefix(hex(b.Color), "#"),
		IsError:      b.Problem,
		CacheSeconds: cacheSeconds,
	}
	if style != Flat {
		e.Style = style.String()
	}
	out, err := json.Marshal(e)
	if err != nil {
		// Unreachable: the struct holds strings, a bool and ints.
		panic("label: endpoint JSON: " + err.Error())
	}
	return out
}
