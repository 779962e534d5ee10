package service

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"

	"github.com/energylabel/energylabel/auth"
	"github.com/energylabel/energylabel/errdefs"
	"github.com/energylabel/energylabel/storage"
)

// The service's own refusals, each of its errdefs kind.
var (
	errUnauthenticated    = errdefs.New(errdefs.Unauthenticated, "unauthenticated")
	errPermissionDenied   = errdefs.New(errdefs.PermissionDenied, "permission denied")
	errResourceExhausted  = errdefs.New(errdefs.Exhausted, "resource exhausted")
	errFailedPrecondition = errdefs.New(errdefs.FailedPrecondition, "failed precondition")
	errNotCaughtUp        = errdefs.New(errdefs.Unavailable, "not caught up")
)

// AdminTokenID stands for the admin token in audit records.
const AdminTokenID = "admin"

// adminSecret holds the SHA-256 of the admin token; nil closes the admin API.
type adminSecret []byte

func newAdminSecret(token string) adminSecret {
	if token == "" {
		return nil
	}
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

func (a adminSecret) matches(token string) bool {
	sum := sha256.Sum256([]byte(token))
	return a != nil && subtle.ConstantTimeCompare(a, sum[:]) == 1
}

// Caller is who makes a call that needs a token: the operator, with the
// admin token, or a publisher's or surveyor's token.
type Caller struct {
	// TokenID names the token in audit records and logs; never the secret.
	TokenID string
	Admin   bool
	token   storage.Token
}

// mayWrite reports whether the caller may store results of namespace.
func (c *Caller) mayWrite(namespace string) bool {
	return c.Admin || auth.Allows(c.token, namespace)
}

// surveyor reports whether the caller holds a surveyor token.
func (c *Caller) surveyor() bool { return !c.Admin && auth.IsSurveyor(c.token) }

// Authenticate resolves a bearer token: the admin token, or a live token
// an admin created. adminOnly refuses every token but the admin's; what
// is refused says why, and names method, the call it was for.
func (s *Service) Authenticate(token, method string, adminOnly bool) (*Caller, error) {
	if token == "" {
		return nil, fmt.Errorf("%w: %s needs a token (the CLI's -token flag, or ENERGYLABEL_TOKEN; over gRPC, an \"authorization: Bearer <token>\" header)", errUnauthenticated, method)
	}
	if s.admin.matches(token) {
		return &Caller{TokenID: AdminTokenID, Admin: true}, nil
	}
	if adminOnly {
		if s.admin == nil {
			return nil, fmt.Errorf("%w: the admin API is closed (no admin token configured)", errPermissionDenied)
		}
		return nil, fmt.Errorf("%w: %s needs the admin token", errUnauthenticated, method)
	}
	t, err := s.tokens.Authenticate(token, s.now())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUnauthenticated, err)
	}
	return &Caller{TokenID: t.ID, token: t}, nil
}
