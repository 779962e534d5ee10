package service

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/energylabel/energylabel/auth"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage"
)

// maxTokenNamespaces bounds the namespaces of one token.
const maxTokenNamespaces = 64

// CreateToken makes a token for role (publisher, the default, or
// surveyor) over namespaces, valid until expires (zero: no end), and
// returns its id and secret; the secret is shown once and stored only as
// its hash.
func (s *Service) CreateToken(ctx context.Context, namespaces []string, role string, expires time.Time) (id, secret string, err error) {
	switch n := len(namespaces); {
	case role != "" && role != storage.RolePublisher && role != storage.RoleSurveyor:
		return "", "", rating.Invalid("role", "want %q or %q, got %s", storage.RolePublisher, storage.RoleSurveyor, rating.Quote(role))
	case role == storage.RoleSurveyor && n > 0:
		return "", "", rating.Invalid("namespaces", "a surveyor token takes none: it verifies every namespace's models and writes none")
	case role == storage.RoleSurveyor:
	case n == 0:
		return "", "", rating.Invalid("namespaces", "at least one namespace (or \"*\") is required")
	case n > maxTokenNamespaces:
		return "", "", rating.Invalid("namespaces", "at most %d namespaces a token, got %d", maxTokenNamespaces, n)
	}
	if err := s.checkNamespaces(namespaces); err != nil {
		return "", "", err
	}
	if now := s.now(); !expires.IsZero() && !expires.After(now) {
		return "", "", rating.Invalid("expires_at", "%s is not in the future (the server's time is %s)",
			expires.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	t, secret := auth.NewToken(namespaces, role, s.now(), expires)
	if err := s.wait(ctx)(s.backend.PutToken(ctx, t)); err != nil {
		return "", "", err
	}
	s.log.Info("token created", "token_id", t.ID, "namespaces", t.Namespaces, "role", cmp.Or(role, storage.RolePublisher))
	return t.ID, secret, nil
}

// RevokeToken revokes a token for good.
func (s *Service) RevokeToken(ctx context.Context, id string) error {
	t, ok := s.tokens.Get(id)
	if !ok {
		return fmt.Errorf("token %s: %w", rating.Quote(id), storage.ErrNotFound)
	}
	t.Revoked = true
	if err := s.wait(ctx)(s.backend.PutToken(ctx, t)); err != nil {
		return err
	}
	s.log.Info("token revoked", "token_id", id)
	return nil
}

// Tokens are every token, oldest first, with no secret.
func (s *Service) Tokens(ctx context.Context) ([]storage.Token, error) {
	ts, err := s.backend.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ts, func(a, b storage.Token) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for i := range ts {
		ts[i].Role = cmp.Or(ts[i].Role, storage.RolePublisher)
	}
	return ts, nil
}

// Backup is a consistent copy of the store and its size in bytes, for an
// operator; the caller closes it.
func (s *Service) Backup(ctx context.Context) (io.ReadCloser, int64, error) {
	snap, size, err := s.backend.Backup(ctx)
	if err != nil {
		return nil, 0, err
	}
	return snap, size, nil
}
