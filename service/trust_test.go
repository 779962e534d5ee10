package service_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/energylabel/energylabel/auth"
	"github.com/energylabel/energylabel/internal/testkit/servertest"
	"github.com/energylabel/energylabel/limits"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/storage/boltdb"
)

// clock is a settable time for a test server.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func TestExpiredTokenFailsAndNoTokenIsLogged(t *testing.T) {
	clk := newClock()
	srv := servertest.StartWith(t, servertest.Options{Now: clk.now})
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	admin := energylabelv1.NewAdminServiceClient(conn)
	expired, err := admin.CreateToken(servertest.WithToken(srv.AdminToken), &energylabelv1.CreateTokenRequest{
		Namespaces: []string{"acme"}, ExpiresAt: timestamppb.New(clk.now().Add(time.Hour)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rs.SubmitResult(servertest.WithToken(expired.Token), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/x", 1)}); err != nil {
		t.Fatalf("token before its expiry: %v", err)
	}
	clk.advance(time.Hour)
	if _, err := rs.SubmitResult(servertest.WithToken(expired.Token), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/x", 1)}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("expired token: %v, want Unauthenticated", err)
	}
	live, _ := admin.CreateToken(servertest.WithToken(srv.AdminToken), &energylabelv1.CreateTokenRequest{Namespaces: []string{"acme"}})
	if _, err := rs.SubmitResult(servertest.WithToken(live.Token), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/x", 1)}); err != nil {
		t.Fatal(err)
	}
	logs := srv.Logs.String()
	if !strings.Contains(logs, live.Id) {
		t.Errorf("logs do not name the token id %s", live.Id)
	}
	for _, secret := range []string{expired.Token, live.Token, srv.AdminToken, auth.SecretPrefix} {
		if strings.Contains(logs, secret) {
			t.Errorf("a token secret appears in the logs")
		}
	}
}

func TestOversizedRequestIsRefused(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	r := servertest.Classification("acme/big", 1)
	r.RunEnergiesWh = make([]float64, (2<<20)/8) // 2 MiB of doubles
	_, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: r})
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("2 MiB request: %v, want ResourceExhausted", err)
	}
	// grpc refuses it before any interceptor runs; it is logged and counted all the same.
	if m := servertest.MetricsText(t, srv); !strings.Contains(m, `energylabel_rpc_duration_seconds_count{code="ResourceExhausted",method="/energylabel.v1.RatingService/SubmitResult"} 1`) {
		t.Error("/metrics does not count the oversized request")
	}
	if !strings.Contains(srv.Logs.String(), "method=/energylabel.v1.RatingService/SubmitResult code=ResourceExhausted") {
		t.Errorf("the oversized request is not logged:\n%s", srv.Logs.String())
	}
}

func TestSubmissionsOverTheRateLimitGetRetryInfo(t *testing.T) {
	srv := servertest.StartWith(t, servertest.Options{SubmitLimit: limits.RateLimit{Rate: 1, Burst: 3}})
	conn := servertest.Dial(t, srv.Addr)
	tok, err := energylabelv1.NewAdminServiceClient(conn).CreateToken(servertest.WithToken(srv.AdminToken), &energylabelv1.CreateTokenRequest{Namespaces: []string{"acme"}})
	if err != nil {
		t.Fatal(err)
	}
	rs := energylabelv1.NewRatingServiceClient(conn)
	var limited error
	for range 10 {
		if _, err := rs.SubmitResult(servertest.WithToken(tok.Token), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/x", 1)}); err != nil {
			limited = err
			break
		}
	}
	st := status.Convert(limited)
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("fast submissions: %v, want ResourceExhausted", limited)
	}
	var retry *errdetails.RetryInfo
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			retry = ri
		}
	}
	if retry == nil || retry.RetryDelay.AsDuration() <= 0 || retry.RetryDelay.AsDuration() > time.Second {
		t.Errorf("RetryInfo = %v, want a delay in (0, 1s]", retry)
	}
	// The admin token bulk-imports and is not throttled.
	for range 10 {
		if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/y", 1)}); err != nil {
			t.Fatalf("admin submission: %v", err)
		}
	}
}

func TestFullDatabaseRefusesWritesAndKeepsServingReads(t *testing.T) {
	srv := servertest.StartWith(t, servertest.Options{MaxDBSize: 256 << 10})
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	var full error
	for i := range 5000 {
		r := servertest.Classification("acme/m"+strings.Repeat("x", i%50), 1+float64(i%7))
		r.RunEnergiesWh = make([]float64, 500) // 4 KB a result fills the file fast
		for j := range r.RunEnergiesWh {
			r.RunEnergiesWh[j] = 1
		}
		if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: r}); err != nil {
			full = err
			break
		}
	}
	if status.Code(full) != codes.ResourceExhausted || !strings.Contains(full.Error(), "full") {
		t.Fatalf("filling the database: %v, want ResourceExhausted saying it is full", full)
	}
	if _, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: "acme/m"}); err != nil {
		t.Errorf("GetRating on a full database: %v", err)
	}
	if _, err := rs.ListRatings(context.Background(), &energylabelv1.ListRatingsRequest{Task: "text-classification"}); err != nil {
		t.Errorf("ListRatings on a full database: %v", err)
	}
}

func TestBackupRestoresToIdenticalListings(t *testing.T) {
	srv := servertest.Start(t)
	conn := servertest.Dial(t, srv.Addr)
	rs := energylabelv1.NewRatingServiceClient(conn)
	servertest.ImportAIES(t, rs, srv.AdminToken)
	stream, err := energylabelv1.NewAdminServiceClient(conn).Backup(servertest.WithToken(srv.AdminToken), &energylabelv1.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var snapshot bytes.Buffer
	var size int64
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if msg.Size > 0 {
			size = msg.Size
		}
		snapshot.Write(msg.Chunk)
	}
	if int64(snapshot.Len()) != size {
		t.Fatalf("snapshot has %d bytes, announced %d", snapshot.Len(), size)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, boltdb.FileName), snapshot.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	restored := servertest.StartWith(t, servertest.Options{DataDir: dir})
	rs2 := energylabelv1.NewRatingServiceClient(servertest.Dial(t, restored.Addr))
	for _, task := range rating.Tasks() {
		req := &energylabelv1.ListRatingsRequest{Task: task.ID}
		a, b := jsonLines(t, servertest.ListAll(t, rs, req)), jsonLines(t, servertest.ListAll(t, rs2, req))
		if a != b {
			t.Errorf("%s: listings differ after restore:\n%s\n%s", task.ID, a, b)
		}
	}
}

func jsonLines(t *testing.T, rs []*energylabelv1.Rating) string {
	var b strings.Builder
	for _, r := range rs {
		line, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func TestTLSServesTLSOnly(t *testing.T) {
	serverTLS, pool := servertest.SelfSigned(t)
	srv := servertest.StartWith(t, servertest.Options{TLS: serverTLS})
	conn, err := grpc.NewClient(srv.Addr, grpc.WithTransportCredentials(credentials.NewClientTLSFromCert(pool, "127.0.0.1")))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("health over TLS: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := healthpb.NewHealthClient(servertest.Dial(t, srv.Addr)).Check(ctx, &healthpb.HealthCheckRequest{}); err == nil {
		t.Error("plaintext against the TLS server succeeded")
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get("https://" + srv.HTTPAddr + "/healthz")
	if err != nil {
		t.Fatalf("HTTPS /healthz: %v", err)
	}
	resp.Body.Close()
}

func TestMetrics(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	servertest.ImportAIES(t, rs, srv.AdminToken)
	rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/x", -1)})
	resp, err := http.Get("http://" + srv.HTTPAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`energylabel_rpc_duration_seconds_count{code="OK",method="/energylabel.v1.RatingService/SubmitResult"} 166`,
		`energylabel_submissions_total{outcome="accepted",reason=""} 166`,
		`energylabel_submissions_total{outcome="rejected",reason="gpu_energy_wh"} 1`,
		`energylabel_ratings{grade="A"} 2`,
		`energylabel_ratings{grade="G"} 35`,
		`energylabel_db_size_bytes`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
