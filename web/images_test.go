package web

import (
	"net/url"
	"strings"
	"testing"

	"github.com/energylabel/energylabel/rating"
)

func TestParseImageQueryAgreesWithParseQuery(t *testing.T) {
	for _, q := range []string{
		"", "task=asr", "task=asr&show=stars", "show=stars&task=text%2Dgeneration",
		"task=a+b", "task=%zz&task=asr", "task=a;b&task=c", "t%61sk=asr", "task", "task=&task=x",
		"&&task=x", "task=%E2%98%85", "hardware=NVIDIA+H100&dataset=AIEnergyScore%2Fasr&u=" + strings.Repeat("x", 1000),
		"dataset=a&dataset=b&hardware=%zz&hardware=B200",
		"style=for-the-badge&label=", "label&style=plastic", "label=%zz&label=x", "label=a%3Bb+c", "label=%zz",
	} {
		agree(t, q)
	}
}

func agree(t *testing.T, q string) {
	t.Helper()
	v, _ := url.ParseQuery(q)
	got := parseImageQuery(q)
	want := imageQuery{task: v.Get("task"), hardware: v.Get("hardware"), dataset: v.Get("dataset"), show: v.Get("show"), scheme: v.Get("scheme"),
		style: v.Get("style"), label: v.Get("label"), labelSet: v.Has("label")}
	if got != want {
		t.Errorf("parseImageQuery(%q) = %+v, url.ParseQuery gives %+v", q, got, want)
	}
}

func FuzzParseImageQuery(f *testing.F) {
	f.Add("task=asr&show=stars&hardware=H100&dataset=x")
	f.Add("t%61sk=a+b;c&task=%zz")
	f.Add("style=flat-square&label=AI+%E2%9A%A1&label=x")
	f.Fuzz(func(t *testing.T, q string) { agree(t, q) })
}

func TestSelectionIgnoresWhatDoesNotSelect(t *testing.T) {
	base, ok := selectionOf("/badge/acme/m.svg", "task=asr", rating.BuiltinAccelerators())
	if !ok {
		t.Fatal("no selection for a plain badge URL")
	}
	for _, q := range []string{
		"task=automatic-speech-recognition", "task=ASR", "task=asr&u=" + strings.Repeat("x", 60<<10),
		"utm_source=x&task=asr", "task=asr&show=grade", "task=asr&task=text-generation",
	} {
		if sel, ok := selectionOf("/badge/acme/m.svg", q, rating.BuiltinAccelerators()); !ok || sel != base {
			t.Errorf("selectionOf(%.40q, rating.BuiltinAccelerators()) = %+v, %v; want %+v", q, sel, ok, base)
		}
	}
	own := map[imageSelection]string{}
	for _, u := range [][2]string{
		{"/badge/acme/m.svg", "task=asr&show=stars"}, {"/label/acme/m.svg", "task=asr"}, {"/label/acme/m.png", "task=asr"},
		{"/badge/acme/other.svg", "task=asr"}, {"/badge/acme/m.json", "task=asr"}, {"/badge/acme/m.json", "task=asr&show=stars"},
		{"/badge/acme/m.svg", "task=asr&style=for-the-badge"}, {"/badge/acme/m.svg", "task=asr&label=energy"},
		{"/badge/acme/m.svg", "task=asr&label="}, {"/badge/acme/m.svg", "task=asr&label=AI+energy"},
	} {
		path, q := u[0], u[1]
		sel, ok := selectionOf(path, q, rating.BuiltinAccelerators())
		if prev, seen := own[sel]; seen {
			t.Errorf("%s?%s has the selection of %s", path, q, prev)
		}
		own[sel] = path + "?" + q
		if !ok || sel == base {
			t.Errorf("selectionOf(%s?%s, rating.BuiltinAccelerators()) = %+v, %v; want a selection of its own", path, q, sel, ok)
		}
	}
	for _, u := range [][2]string{
		{"/badge/acme/m.png", ""}, {"/badge/a/b/c.svg", ""}, {"/badge//m.svg", ""}, {"/healthz", ""},
		{"/badge/acme/m.svg", "show=nope"}, {"/label/acme/m.svg", "hardware=" + strings.Repeat("H", 300)},
		{"/badge/acme/m.json", "style=social"}, {"/badge/acme/m.svg", "label=" + strings.Repeat("L", 65)},
		{"/badge/acme/m.svg", "label=%ff"},
	} {
		path, q := u[0], u[1]
		if _, ok := selectionOf(path, q, rating.BuiltinAccelerators()); ok {
			t.Errorf("selectionOf(%s?%.40s, rating.BuiltinAccelerators()) is a selection", path, q)
		}
	}
}

func TestETagMatches(t *testing.T) {
	etag := `"abc"`
	for _, tc := range []struct {
		header []string
		want   bool
	}{
		{nil, false}, {[]string{`"abc"`}, true}, {[]string{`"x", "abc"`}, true},
		{[]string{`"x"`, ` "abc" `}, true}, {[]string{"*"}, true}, {[]string{`"abcd"`}, false},
		{[]string{`W/"abc"`}, true}, {[]string{`W/"x", W/"abc"`}, true}, {[]string{`W/"abcd"`}, false}, {[]string{`w/"abc"`}, false},
	} {
		if got := etagMatches(tc.header, etag); got != tc.want {
			t.Errorf("etagMatches(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}
