package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/energylabel/energylabel/storage"
)

func TestTokens(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	tok, secret := NewToken([]string{"acme"}, "", now, time.Time{})
	c := New()
	if _, err := c.Authenticate(secret, now); !errors.Is(err, ErrBadToken) {
		t.Errorf("before it is loaded: %v", err)
	}
	c.Load(nil)
	c.Put(tok)
	got, err := c.Authenticate(secret, now)
	if err != nil || got.ID != tok.ID || !Allows(got, "acme") || Allows(got, "other") {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	for name, bad := range map[string]string{"no prefix": secret[4:], "wrong": SecretPrefix + "00", "empty": ""} {
		if _, err := c.Authenticate(bad, now); !errors.Is(err, ErrBadToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
	tok.Revoked = true
	c.Put(tok)
	if _, err := c.Authenticate(secret, now); !errors.Is(err, ErrBadToken) {
		t.Errorf("revoked: %v", err)
	}
	exp, secret2 := NewToken([]string{"*"}, "", now, now.Add(time.Hour))
	c.Put(exp)
	if _, err := c.Authenticate(secret2, now.Add(time.Hour)); !errors.Is(err, ErrBadToken) {
		t.Errorf("expired: %v", err)
	}
	if got, _ := c.Authenticate(secret2, now); !Allows(got, "anyone") {
		t.Error(`"*" does not allow every namespace`)
	}
}

// A surveyor's token writes no namespace, not even one it was somehow
// given; a publisher's writes its own, and "*" every one.
func TestRolesAllow(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	pub, _ := NewToken([]string{"acme"}, storage.RolePublisher, now, time.Time{})
	all, _ := NewToken([]string{"*"}, "", now, time.Time{})
	sur, _ := NewToken(nil, storage.RoleSurveyor, now, time.Time{})
	odd, _ := NewToken([]string{"*", "acme"}, storage.RoleSurveyor, now, time.Time{})
	for _, tt := range []struct {
		name  string
		tok   storage.Token
		ns    string
		allow bool
	}{
		{"publisher, own namespace", pub, "acme", true},
		{"publisher, another", pub, "evil", false},
		{"publisher of *", all, "evil", true},
		{"surveyor", sur, "acme", false},
		{"surveyor holding namespaces", odd, "acme", false},
	} {
		if got := Allows(tt.tok, tt.ns); got != tt.allow {
			t.Errorf("%s: Allows(%q) = %v, want %v", tt.name, tt.ns, got, tt.allow)
		}
	}
	if IsSurveyor(pub) || IsSurveyor(all) || !IsSurveyor(sur) {
		t.Errorf("IsSurveyor: publisher %v, * %v, surveyor %v", IsSurveyor(pub), IsSurveyor(all), IsSurveyor(sur))
	}
}
