package server

import (
	"net/url"
	"strings"
	"testing"
)

func TestParseImageQueryAgreesWithParseQuery(t *testing.T) {
	for _, q := range []string{
		"", "task=asr", "task=asr&scheme=stars", "scheme=stars&task=text%2Dgeneration",
		"task=a+b", "task=%zz&task=asr", "task=a;b&task=c", "t%61sk=asr", "task", "task=&task=x",
		"&&task=x", "task=%E2%98%85", "hardware=NVIDIA+H100&dataset=AIEnergyScore%2Fasr&u=" + strings.Repeat("x", 1000),
		"dataset=a&dataset=b&hardware=%zz&hardware=B200",
	} {
		agree(t, q)
	}
}

func agree(t *testing.T, q string) {
	t.Helper()
	v, _ := url.ParseQuery(q)
	got := parseImageQuery(q)
	want := imageQuery{task: v.Get("task"), hardware: v.Get("hardware"), dataset: v.Get("dataset"), scheme: v.Get("scheme")}
	if got != want {
		t.Errorf("parseImageQuery(%q) = %+v, url.ParseQuery gives %+v", q, got, want)
	}
}

func FuzzParseImageQuery(f *testing.F) {
	f.Add("task=asr&scheme=stars&hardware=H100&dataset=x")
	f.Add("t%61sk=a+b;c&task=%zz")
	f.Fuzz(func(t *testing.T, q string) { agree(t, q) })
}

func TestImageCacheStaysInItsBudget(t *testing.T) {
	c := newImageCache(imageShards * 10 << 10)
	body := make([]byte, 1000)
	for i := range 100 * imageShards {
		c.put(imageKey{result: uint64(i)}, newImage("image/svg+xml", body))
		for s := range c.shards {
			if sh := &c.shards[s]; sh.bytes > sh.budget {
				t.Fatalf("after %d puts shard %d holds %d bytes, over its budget of %d", i+1, s, sh.bytes, sh.budget)
			}
		}
	}
	for s := range c.shards {
		if n := len(c.shards[s].m); n < 5 || n > 10 {
			t.Errorf("shard %d holds %d images of 1 kB in 10 kB", s, n)
		}
	}
	last := imageKey{result: 100*imageShards - 1}
	if c.get(last) == nil {
		t.Error("the last image put is not in the cache")
	}
	c.put(imageKey{result: 1}, newImage("image/png", make([]byte, 20<<10)))
	if img := c.get(imageKey{result: 1}); img != nil && len(img.body) > 1000 {
		t.Error("an image larger than a shard's budget was kept")
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
