package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestNullableBecomesATypeThatAdmitsNull(t *testing.T) {
	in := `{"openapi": "3.1.0", "paths": {"/b": {}, "/a": {}}, "components": {"schemas": {"X": {"type": "object", "properties": {
		"n": {"type": "number", "format": "double", "nullable": true},
		"s": {"type": "string", "enum": ["A", "B"], "nullable": true},
		"t": {"type": ["integer", "string"], "nullable": true},
		"r": {"title": "r", "$ref": "#/components/schemas/Y", "nullable": true},
		"f": {"type": "string", "nullable": false},
		"x": {"type": "string", "description": "a \u003c b ≤ c"}}}}}}`
	out, err := Convert([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"openapi":"3.1.0","paths":{"/a":{},"/b":{}},"components":{"schemas":{"X":{"type":"object","properties":{` +
		`"n":{"type":["number","null"],"format":"double"},` +
		`"s":{"type":["string","null"],"enum":["A","B",null]},` +
		`"t":{"type":["integer","string","null"]},` +
		`"r":{"title":"r","anyOf":[{"$ref":"#/components/schemas/Y"},{"type":"null"}]},` +
		`"f":{"type":"string"},` +
		`"x":{"type":"string","description":"a \u003c b ≤ c"}}}}}}`
	var got bytes.Buffer
	if err := json.Compact(&got, out); err != nil {
		t.Fatal(err)
	}
	if got.String() != want {
		t.Errorf("got\n%s\nwant\n%s", got.String(), want)
	}
	if !bytes.HasPrefix(out, []byte("{\n  \"openapi\": \"3.1.0\",\n")) || !bytes.HasSuffix(out, []byte("}\n")) {
		t.Errorf("not indented as the generator writes:\n%s", out)
	}
}

func TestTheErrorDetailsDebugFieldIsAnAnyOf(t *testing.T) {
	in := `{"openapi": "3.1.0", "components": {"schemas": {"connect.error_details.Any": {"properties": {"debug": {
		"oneOf": [{"type": "object"}, {"$ref": "#/components/schemas/google.rpc.BadRequest"}],
		"discriminator": {"propertyName": "type"}, "title": "Debug"}}}}}}`
	out, err := Convert([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	json.Compact(&got, out)
	want := `{"openapi":"3.1.0","components":{"schemas":{"connect.error_details.Any":{"properties":{"debug":{` +
		`"anyOf":[{"type":"object"},{"$ref":"#/components/schemas/google.rpc.BadRequest"}],"title":"Debug"}}}}}}`
	if got.String() != want {
		t.Errorf("got\n%s\nwant\n%s", got.String(), want)
	}
}

func TestOnlyOpenAPI31IsConverted(t *testing.T) {
	for _, in := range []string{`{"openapi": "3.0.3"}`, `[]`, `{"openapi": "3.1.0"} {}`, `{"openapi": "3.1.0", "a": 1, "a": 2}`} {
		if _, err := Convert([]byte(in)); err == nil {
			t.Errorf("%s: converted", in)
		}
	}
}

// The committed document is what this program leaves: converting it again
// changes nothing.
func TestTheCommittedDocumentIsConverted(t *testing.T) {
	data, err := os.ReadFile("../../../grpcapi/openapi.json")
	if err != nil {
		t.Skip(err)
	}
	out, err := Convert(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, data) {
		t.Error("grpcapi/openapi.json changes when converted again: run scripts/generate.sh")
	}
	if strings.Contains(string(data), `"nullable"`) {
		t.Error(`grpcapi/openapi.json has "nullable"`)
	}
}
