package limits

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestClientAddrBelievesForwardedForFromTrustedProxiesOnly(t *testing.T) {
	l := Limits{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::1/128")}}
	for _, c := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"192.0.2.7:5000", nil, "192.0.2.7"},
		// An untrusted client cannot name someone else.
		{"192.0.2.7:5000", []string{"198.51.100.1"}, "192.0.2.7"},
		// A trusted proxy names its client; what a client wrote left of
		// it is its own to make up, and ignored.
		{"10.1.2.3:443", []string{"203.0.113.9, 198.51.100.1"}, "198.51.100.1"},
		// Two trusted hops: the client is the first untrusted from the right.
		{"10.1.2.3:443", []string{"198.51.100.1", "10.9.9.9"}, "198.51.100.1"},
		{"10.1.2.3:443", []string{"not an address"}, "10.1.2.3"},
		{"10.1.2.3:443", nil, "10.1.2.3"},
		// IPv6 clients count by /64; IPv4-mapped ones as IPv4.
		{"[2001:db8:1:2:aaaa::1]:80", nil, "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:bbbb::9]:80", nil, "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.7]:80", nil, "192.0.2.7"},
		{"[fd00::1]:80", []string{"2001:db8::5"}, "2001:db8::/64"},
	} {
		if got := l.clientAddr(c.remote, c.xff); got != c.want {
			t.Errorf("clientAddr(%q, %q) = %q, want %q", c.remote, c.xff, got, c.want)
		}
	}
	// A huge forwarded header is read a few hops deep, no more: past
	// them, the last hop read counts.
	huge := strings.Repeat("198.51.100.1, ", 100_000) + strings.Repeat("10.0.0.1, ", maxForwardedHops) + "10.0.0.2"
	if got := l.clientAddr("10.1.2.3:1", []string{huge}); got != "10.0.0.1" {
		t.Errorf("a header of 100,000 hops: %q", got)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies("10.0.0.0/8, 192.0.2.1 ,2001:db8::/32")
	if err != nil || len(got) != 3 || got[1] != netip.MustParsePrefix("192.0.2.1/32") {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := ParseTrustedProxies("10.0.0.0/8,proxy.example"); err == nil {
		t.Error("a host name is accepted")
	}
}

func TestReadBudgetForgetsIdleAddressesAndStaysBounded(t *testing.T) {
	b := newReadBudget(RateLimit{Rate: 1000, Burst: 1})
	t0 := time.Unix(0, 0)
	for i := range maxBudgets + 1 {
		if err := b.take(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String(), t0); err != nil {
			t.Fatalf("address %d: %v", i, err)
		}
	}
	if len(b.by) > maxBudgets {
		t.Fatalf("%d addresses remembered", len(b.by))
	}
	// Past them, new addresses share one bucket while every remembered
	// one is recent.
	if err := b.take("192.0.2.1", t0); err == nil {
		t.Error("a second new address past the bound shares no bucket with the first")
	}
	// A second later every bucket is full again, and forgotten to make room.
	if err := b.take("192.0.2.1", t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if len(b.by) != 1 {
		t.Errorf("%d addresses remembered after the sweep, want 1", len(b.by))
	}
}
