package grpcapi_test

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// Who may do what: publishers submit for their namespaces and verify
// nothing; surveyors verify any namespace's models and submit nothing; the
// admin imports, and verifies nothing either.
func TestRolesPermissionMatrix(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	acme, evil, surveyor := servertest.PublisherToken(t, srv, "acme"), servertest.PublisherToken(t, srv, "evil"), servertest.SurveyorToken(t, srv)
	if _, err := rs.SubmitResult(servertest.WithToken(acme), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/declared", 0.5)}); err != nil {
		t.Fatal(err)
	}
	callers := []struct{ name, token string }{{"no token", ""}, {"acme's publisher", acme}, {"evil's publisher", evil}, {"a surveyor", surveyor}, {"the admin", srv.AdminToken}}
	for _, tt := range []struct {
		call string
		want []codes.Code // by caller, in callers' order
	}{
		{"SubmitResult", []codes.Code{codes.Unauthenticated, codes.OK, codes.PermissionDenied, codes.PermissionDenied, codes.OK}},
		{"VerifyResult", []codes.Code{codes.Unauthenticated, codes.PermissionDenied, codes.PermissionDenied, codes.OK, codes.PermissionDenied}},
	} {
		for i, c := range callers {
			ctx := t.Context()
			if c.token != "" {
				ctx = servertest.WithToken(c.token)
			}
			var err error
			if tt.call == "SubmitResult" {
				_, err = rs.SubmitResult(ctx, &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/m", 0.4+0.01*float64(i))})
			} else {
				_, err = rs.VerifyResult(ctx, &energylabelv1.VerifyResultRequest{Result: servertest.Classification("acme/declared", 0.5+0.01*float64(i))})
			}
			if got := status.Code(err); got != tt.want[i] {
				t.Errorf("%s by %s: %v, want %v", tt.call, c.name, err, tt.want[i])
			}
			if c.token == surveyor && tt.call == "SubmitResult" && !strings.Contains(err.Error(), "verify") {
				t.Errorf("a surveyor's submission: %v does not point to verify", err)
			}
		}
	}
}

// Roles at token creation: a surveyor's token has no namespaces, a
// publisher's needs some, any other role is refused naming the field; the
// list shows each token's role.
func TestTokenRoles(t *testing.T) {
	srv := servertest.Start(t)
	admin := energylabelv1.NewAdminServiceClient(servertest.Dial(t, srv.Addr))
	create := func(role string, namespaces ...string) (*energylabelv1.CreateTokenResponse, error) {
		return admin.CreateToken(servertest.WithToken(srv.AdminToken), &energylabelv1.CreateTokenRequest{Role: role, Namespaces: namespaces})
	}
	for _, tt := range []struct {
		role       string
		namespaces []string
		field      string // the refused field; "" for created
	}{
		{"", []string{"acme"}, ""},
		{"publisher", []string{"org-b"}, ""},
		{"surveyor", nil, ""},
		{"surveyor", []string{"acme"}, "namespaces"},
		{"publisher", nil, "namespaces"},
		{"", nil, "namespaces"},
		{"admin", nil, "role"},
		{"Surveyor", nil, "role"},
	} {
		_, err := create(tt.role, tt.namespaces...)
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("role %q, namespaces %q: %v", tt.role, tt.namespaces, err)
		case tt.field != "" && !slices.Contains(servertest.RefusedFields(t, err), tt.field):
			t.Errorf("role %q, namespaces %q: %v, want %s refused", tt.role, tt.namespaces, err, tt.field)
		}
	}
	list, err := admin.ListTokens(servertest.WithToken(srv.AdminToken), &energylabelv1.ListTokensRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var roles []string
	for _, tok := range list.GetTokens() {
		roles = append(roles, tok.GetRole()+":"+strings.Join(tok.GetNamespaces(), ","))
	}
	slices.Sort(roles)
	if want := []string{"publisher:acme", "publisher:org-b", "surveyor:"}; !slices.Equal(roles, want) {
		t.Errorf("ListTokens roles %v, want %v", roles, want)
	}
}
