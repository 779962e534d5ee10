package store

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	storev1 "github.com/energylabel/energylabel/proto/energylabel/store/v1"
)

// ErrBadToken is matched by every authentication failure: unknown,
// revoked and expired tokens.
var ErrBadToken = errors.New("invalid token")

// SecretPrefix starts every publisher token, so that a leaked one is easy
// to recognise.
const SecretPrefix = "elp_"

// Token is a publisher token as the admin sees it. The secret is never kept.
type Token struct {
	ID         string
	Namespaces []string
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never
	LastUsedAt time.Time
	Revoked    bool
	hash       []byte
}

// Allows reports whether the token may write models of a namespace.
func (t *Token) Allows(namespace string) bool {
	return slices.Contains(t.Namespaces, "*") || slices.Contains(t.Namespaces, namespace)
}

// tokenCache answers authentication from memory; the file is the truth.
type tokenCache struct {
	mu     sync.RWMutex
	byHash map[string]*Token
	byID   map[string]*Token
}

func newTokenCache() *tokenCache {
	return &tokenCache{byHash: map[string]*Token{}, byID: map[string]*Token{}}
}

func (c *tokenCache) put(t *Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byHash[string(t.hash)] = t
	c.byID[t.ID] = t
}

func (c *tokenCache) used(id string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.byID[id]; t != nil && at.After(t.LastUsedAt) {
		t.LastUsedAt = at
	}
}

func tokenOf(p *storev1.Token) *Token {
	return &Token{
		ID: p.Id, Namespaces: p.Namespaces, CreatedAt: timeOf(p.CreatedAt), ExpiresAt: timeOf(p.ExpiresAt),
		LastUsedAt: timeOf(p.LastUsedAt), Revoked: p.Revoked, hash: p.SecretSha256,
	}
}

func recordOfToken(t *Token) *storev1.Token {
	return &storev1.Token{
		Id: t.ID, SecretSha256: t.hash, Namespaces: t.Namespaces, CreatedAt: timestamp(t.CreatedAt),
		ExpiresAt: timestamp(t.ExpiresAt), LastUsedAt: timestamp(t.LastUsedAt), Revoked: t.Revoked,
	}
}

// CreateToken creates a publisher token for namespaces and returns it with
// its secret, which is not stored and cannot be shown again.
func (s *Store) CreateToken(namespaces []string, expires time.Time) (Token, string, error) {
	if len(namespaces) == 0 {
		return Token{}, "", errors.New("a token needs at least one namespace")
	}
	idBytes, secretBytes := make([]byte, 6), make([]byte, 32)
	rand.Read(idBytes)
	rand.Read(secretBytes)
	secret := SecretPrefix + hex.EncodeToString(secretBytes)
	sum := sha256.Sum256([]byte(secret))
	t := &Token{
		ID: "tok_" + hex.EncodeToString(idBytes), Namespaces: slices.Clone(namespaces),
		CreatedAt: s.now().UTC(), ExpiresAt: expires, hash: sum[:],
	}
	if err := s.putToken(t); err != nil {
		return Token{}, "", err
	}
	s.auth.put(t)
	return t.public(), secret, nil
}

func (s *Store) putToken(t *Token) error {
	v, err := proto.Marshal(recordOfToken(t))
	if err != nil {
		return err
	}
	err = s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketTokens).Put([]byte(t.ID), v) })
	return storageError("token "+t.ID, err)
}

// RevokeToken revokes a token; it fails from the next call on.
func (s *Store) RevokeToken(id string) error {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	t := s.auth.byID[id]
	if t == nil {
		return fmt.Errorf("token %q: %w", id, ErrNotFound)
	}
	revoked := *t
	revoked.Revoked = true
	if err := s.putToken(&revoked); err != nil {
		return err
	}
	t.Revoked = true
	return nil
}

// Tokens lists every token, oldest first.
func (s *Store) Tokens() []Token {
	s.auth.mu.RLock()
	defer s.auth.mu.RUnlock()
	out := make([]Token, 0, len(s.auth.byID))
	for _, t := range s.auth.byID {
		out = append(out, t.public())
	}
	slices.SortFunc(out, func(a, b Token) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}

// Authenticate finds the live token with this secret.
func (s *Store) Authenticate(secret string) (Token, error) {
	if !strings.HasPrefix(secret, SecretPrefix) {
		return Token{}, ErrBadToken
	}
	sum := sha256.Sum256([]byte(secret))
	s.auth.mu.RLock()
	defer s.auth.mu.RUnlock()
	t := s.auth.byHash[string(sum[:])]
	// The map lookup is on a hash; the compare below keeps the final check
	// constant-time all the same.
	if t == nil || subtle.ConstantTimeCompare(t.hash, sum[:]) != 1 {
		return Token{}, ErrBadToken
	}
	if t.Revoked {
		return Token{}, fmt.Errorf("token %s is revoked: %w", t.ID, ErrBadToken)
	}
	if !t.ExpiresAt.IsZero() && !s.now().Before(t.ExpiresAt) {
		return Token{}, fmt.Errorf("token %s expired at %s: %w", t.ID, t.ExpiresAt.UTC().Format(time.RFC3339), ErrBadToken)
	}
	return t.public(), nil
}

func (t *Token) public() Token {
	c := *t
	c.Namespaces = slices.Clone(t.Namespaces)
	c.hash = nil
	return c
}
