// Command openapi31 makes the OpenAPI document that protoc-gen-connect-openapi
// writes valid OpenAPI 3.1, in place, keeping its key order and layout:
//
//   - "nullable: true", which OpenAPI 3.1 dropped, becomes a type that
//     admits null: {"type": "number", "nullable": true} becomes {"type":
//     ["number", "null"]}; a schema without a type (a $ref) becomes
//     {"anyOf": [{...the schema...}, {"type": "null"}]};
//   - the Connect error detail's "debug" field, a oneOf of overlapping
//     schemas (a catch-all object and every google.rpc detail) with a
//     discriminator on a property none of them has, becomes an anyOf of
//     the same schemas, without the discriminator: the detail's "type"
//     beside it says which one it is;
//   - paths are sorted, so that the document does not depend on the
//     generator's map order.
//
// Usage: openapi31 FILE
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: openapi31 FILE")
		os.Exit(2)
	}
	if err := rewrite(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "openapi31:", err)
		os.Exit(1)
	}
}

func rewrite(path string) error {
	in, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := Convert(in)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, out, 0o644)
}

// Convert returns the document data as OpenAPI 3.1 (see the package
// comment), indented by two spaces as the generator writes it.
func Convert(data []byte) ([]byte, error) {
	v, err := parse(data)
	if err != nil {
		return nil, err
	}
	doc, ok := v.(*object)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	if ver, _ := doc.get("openapi").(string); len(ver) < 3 || ver[:3] != "3.1" {
		return nil, fmt.Errorf("openapi %q: want 3.1.x (set it in the base document)", ver)
	}
	nullables(doc)
	if err := debugDetail(doc); err != nil {
		return nil, err
	}
	if paths, ok := doc.get("paths").(*object); ok {
		paths.sortKeys()
	}
	var compact bytes.Buffer
	if err := encode(&compact, doc); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// nullables rewrites every "nullable" in v, depth first.
func nullables(v any) {
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			nullables(x)
		}
	case *object:
		for _, k := range v.keys {
			nullables(v.vals[k])
		}
		n, has := v.vals["nullable"]
		if !has {
			return
		}
		v.del("nullable")
		if n != true {
			return
		}
		switch t := v.get("type").(type) {
		case string:
			v.set("type", []any{t, "null"})
		case []any:
			if !slices.Contains(t, any("null")) {
				v.set("type", append(t, "null"))
			}
		case nil:
			inner := &object{vals: map[string]any{}}
			for _, k := range v.keys {
				if k != "title" && k != "description" {
					inner.set(k, v.vals[k])
				}
			}
			for _, k := range inner.keys {
				v.del(k)
			}
			v.set("anyOf", []any{inner, &object{keys: []string{"type"}, vals: map[string]any{"type": "null"}}})
		}
		if enum, ok := v.get("enum").([]any); ok && !slices.Contains(enum, nil) {
			v.set("enum", append(enum, nil))
		}
	}
}

// debugDetail makes the Connect error detail's debug field an anyOf of
// its alternatives. Documents without it are left as they are.
func debugDetail(doc *object) error {
	detail := walk(doc, "components", "schemas", "connect.error_details.Any", "properties", "debug")
	if detail == nil {
		return nil
	}
	oneOf, ok := detail.get("oneOf").([]any)
	if !ok {
		return nil
	}
	detail.rename("oneOf", "anyOf", oneOf)
	detail.del("discriminator")
	return nil
}

// walk follows keys down nested objects; nil when one is missing.
func walk(o *object, keys ...string) *object {
	for _, k := range keys {
		next, ok := o.get(k).(*object)
		if !ok {
			return nil
		}
		o = next
	}
	return o
}

// object is a JSON object that keeps its keys' order.
type object struct {
	keys []string
	vals map[string]any
}

func (o *object) get(k string) any { return o.vals[k] }

func (o *object) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *object) del(k string) {
	if _, ok := o.vals[k]; !ok {
		return
	}
	delete(o.vals, k)
	o.keys = slices.DeleteFunc(o.keys, func(x string) bool { return x == k })
}

// rename replaces key from by key to, with value v, in from's place.
func (o *object) rename(from, to string, v any) {
	i := slices.Index(o.keys, from)
	delete(o.vals, from)
	o.keys[i] = to
	o.vals[to] = v
}

func (o *object) sortKeys() { slices.Sort(o.keys) }

// parse decodes JSON into *object, []any, string, bool, nil and
// json.Number, keeping objects' key order and numbers' text.
func parse(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := value(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more than one JSON value")
	}
	return v, nil
}

func value(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		o := &object{vals: map[string]any{}}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k := kt.(string)
			if _, dup := o.vals[k]; dup {
				return nil, fmt.Errorf("key %q twice in an object", k)
			}
			v, err := value(dec)
			if err != nil {
				return nil, err
			}
			o.set(k, v)
		}
		_, err := dec.Token() // }
		return o, err
	case json.Delim('['):
		a := []any{}
		for dec.More() {
			v, err := value(dec)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		_, err := dec.Token() // ]
		return a, err
	}
	return tok, nil
}

// encode writes v as compact JSON, escaping strings as encoding/json does.
func encode(w *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case *object:
		w.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				w.WriteByte(',')
			}
			if err := encode(w, k); err != nil {
				return err
			}
			w.WriteByte(':')
			if err := encode(w, v.vals[k]); err != nil {
				return err
			}
		}
		w.WriteByte('}')
	case []any:
		w.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				w.WriteByte(',')
			}
			if err := encode(w, x); err != nil {
				return err
			}
		}
		w.WriteByte(']')
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		w.Write(b)
	}
	return nil
}
