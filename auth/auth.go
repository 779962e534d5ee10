// Package auth authenticates publisher tokens from memory: a cache of the
// storage backend's tokens, loaded from its snapshot and kept current by
// its events, so that every replica sees a revocation.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/energylabel/energylabel/errdefs"
	"github.com/energylabel/energylabel/storage"
)

// ErrBadToken is matched by every authentication failure: unknown,
// revoked and expired tokens.
var ErrBadToken = errdefs.New(errdefs.Unauthenticated, "invalid token")

// SecretPrefix starts every publisher token, so that a leaked one is easy
// to recognise.
const SecretPrefix = "elp_"

// Allows reports whether a token may write models of a namespace: a
// publisher's, of its namespaces; a surveyor's, of none.
func Allows(t storage.Token, namespace string) bool {
	if IsSurveyor(t) {
		return false
	}
	return slices.Contains(t.Namespaces, "*") || slices.Contains(t.Namespaces, namespace)
}

// IsSurveyor reports whether a token is a surveyor's.
func IsSurveyor(t storage.Token) bool { return t.Role == storage.RoleSurveyor }

// NewToken makes a token for namespaces: its id, and the secret that is
// shown once and never stored (the token keeps its SHA-256 only).
func NewToken(namespaces []string, role string, created, expires time.Time) (storage.Token, string) {
	idBytes, secretBytes := make([]byte, 6), make([]byte, 32)
	rand.Read(idBytes)
	rand.Read(secretBytes)
	secret := SecretPrefix + hex.EncodeToString(secretBytes)
	sum := sha256.Sum256([]byte(secret))
	return storage.Token{ID: "tok_" + hex.EncodeToString(idBytes), SecretSHA256: sum[:], Namespaces: slices.Clone(namespaces),
		Role: role, CreatedAt: storage.CanonicalTime(created), ExpiresAt: expires}, secret
}

// Tokens answers authentication from memory; the backend is the truth.
type Tokens struct {
	mu     sync.RWMutex
	byHash map[string]storage.Token
	byID   map[string]storage.Token
}

// New returns an empty cache.
func New() *Tokens {
	return &Tokens{byHash: map[string]storage.Token{}, byID: map[string]storage.Token{}}
}

// Load replaces the cache's tokens.
func (c *Tokens) Load(ts []storage.Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byHash, c.byID = make(map[string]storage.Token, len(ts)), make(map[string]storage.Token, len(ts))
	for _, t := range ts {
		c.putLocked(t)
	}
}

// Put adds or replaces a token, as an event says.
func (c *Tokens) Put(t storage.Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(t)
}

func (c *Tokens) putLocked(t storage.Token) {
	if old, ok := c.byID[t.ID]; ok {
		delete(c.byHash, string(old.SecretSHA256))
	}
	c.byID[t.ID] = t
	c.byHash[string(t.SecretSHA256)] = t
}

// All returns every token.
func (c *Tokens) All() []storage.Token {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]storage.Token, 0, len(c.byID))
	for _, t := range c.byID {
		out = append(out, t)
	}
	return out
}

// Get returns a token by id.
func (c *Tokens) Get(id string) (storage.Token, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.byID[id]
	return t, ok
}

// Authenticate finds the live token with this secret.
func (c *Tokens) Authenticate(secret string, now time.Time) (storage.Token, error) {
	if !strings.HasPrefix(secret, SecretPrefix) {
		return storage.Token{}, ErrBadToken
	}
	sum := sha256.Sum256([]byte(secret))
	c.mu.RLock()
	t, ok := c.byHash[string(sum[:])]
	c.mu.RUnlock()
	// The map lookup is on a hash; the compare keeps the final check
	// constant-time all the same.
	if !ok || subtle.ConstantTimeCompare(t.SecretSHA256, sum[:]) != 1 {
		return storage.Token{}, ErrBadToken
	}
	if t.Revoked {
		return storage.Token{}, fmt.Errorf("token %s is revoked: %w", t.ID, ErrBadToken)
	}
	if !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return storage.Token{}, fmt.Errorf("token %s expired at %s: %w", t.ID, t.ExpiresAt.UTC().Format(time.RFC3339), ErrBadToken)
	}
	return t, nil
}
