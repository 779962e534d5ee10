package grpcapi_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	"github.com/energylabel/energylabel/limits"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// httpFrom is an HTTP client whose connections come from a loopback
// address of its own, as another client's.
func httpFrom(from string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

// A client past its budget of costly reads is told to wait, over gRPC
// and HTTP alike, and its images turn into a grey "busy" picture with
// status 200; a client on another address reads on.
func TestCostlyReadsDrawOnTheCallersBudgetOnly(t *testing.T) {
	srv := servertest.StartWith(t, servertest.Options{Limits: limits.Limits{ReadBudget: limits.RateLimit{Rate: 0.01, Burst: 8}}})
	admin := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	if _, err := admin.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/x", 1)}); err != nil {
		t.Fatal(err)
	}
	greedy := energylabelv1.NewRatingServiceClient(dialFrom(t, "127.0.0.3", srv.Addr))
	ctx := context.Background()
	for i := range 8 {
		if _, err := greedy.GetHistory(ctx, &energylabelv1.GetHistoryRequest{Model: "acme/x"}); err != nil {
			t.Fatalf("history %d: %v", i, err)
		}
	}
	_, err := greedy.GetHistory(ctx, &energylabelv1.GetHistoryRequest{Model: "acme/x"})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("a ninth history read: %v, want ResourceExhausted", err)
	}
	retry := false
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay().AsDuration() > time.Minute {
			retry = true
		}
	}
	if !retry {
		t.Errorf("no RetryInfo in %v", status.Convert(err).Proto())
	}
	// GetRating answers from memory: it draws on no budget.
	if _, err := greedy.GetRating(ctx, &energylabelv1.GetRatingRequest{Model: "acme/x"}); err != nil {
		t.Errorf("GetRating past the budget: %v", err)
	}

	web := httpFrom("127.0.0.3")
	get := func(c *http.Client, path string) *http.Response {
		t.Helper()
		resp, err := c.Get("http://" + srv.HTTPAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := get(web, "/search?q=acme"); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("search past the budget: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// A page built already costs nothing more to serve.
	if resp := get(httpFrom("127.0.0.4"), "/tasks/text-classification"); resp.StatusCode != http.StatusOK {
		t.Fatalf("a task page: %d", resp.StatusCode)
	}
	if resp := get(web, "/tasks/text-classification"); resp.StatusCode != http.StatusOK {
		t.Errorf("a cached task page past the budget: %d", resp.StatusCode)
	}
	resp := get(web, "/label/acme/x.png")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("Cache-Control") != "max-age=10" {
		t.Errorf("a PNG label past the budget: %d %s %s, want a busy PNG", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	if resp := get(web, "/badge/acme/x.svg"); resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "max-age=300" {
		t.Errorf("a badge past the budget: %d %s: badges cost microseconds and are never budgeted", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	// Over the Connect protocol, the same refusal is a 429 with Retry-After.
	req, _ := http.NewRequest("POST", "http://"+srv.HTTPAddr+"/energylabel.v1.RatingService/GetHistory", strings.NewReader(`{"model":"acme/x"}`))
	req.Header.Set("Content-Type", "application/json")
	cresp, err := web.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	cresp.Body.Close()
	if cresp.StatusCode != http.StatusTooManyRequests || cresp.Header.Get("Retry-After") == "" {
		t.Errorf("Connect GetHistory past the budget: %d, Retry-After %q", cresp.StatusCode, cresp.Header.Get("Retry-After"))
	}

	// Another address has its own budget, whole.
	other := energylabelv1.NewRatingServiceClient(dialFrom(t, "127.0.0.2", srv.Addr))
	if _, err := other.GetHistory(ctx, &energylabelv1.GetHistoryRequest{Model: "acme/x"}); err != nil {
		t.Errorf("another address: %v", err)
	}
	if resp := get(httpFrom("127.0.0.2"), "/label/acme/x.png"); resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") == "max-age=10" {
		t.Errorf("another address's PNG label: %d %s", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
}

// One address may hold so many connections open; more are closed as
// they come, and another address connects as before.
func TestConnectionsPerAddressAreCapped(t *testing.T) {
	srv := servertest.StartWith(t, servertest.Options{Limits: limits.Limits{ConnsPerAddress: 3}})
	dialTCP := func(from string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c, err := d.Dial("tcp", srv.HTTPAddr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// open says whether the server keeps a connection open: a closed one
	// reads EOF at once, an open one times out.
	open := func(c net.Conn) bool {
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		return err != nil && err != io.EOF && !strings.Contains(err.Error(), "reset")
	}
	var held []net.Conn
	for range 3 {
		held = append(held, dialTCP("127.0.0.3"))
	}
	for i, c := range held {
		if !open(c) {
			t.Fatalf("connection %d within the cap was closed", i)
		}
	}
	if open(dialTCP("127.0.0.3")) {
		t.Error("a fourth connection from the same address stays open")
	}
	if !open(dialTCP("127.0.0.2")) {
		t.Error("another address's connection was closed")
	}
	held[0].Close()
	time.Sleep(50 * time.Millisecond) // the server sees the close
	if resp, err := httpFrom("127.0.0.3").Get("http://" + srv.HTTPAddr + "/healthz"); err != nil {
		t.Errorf("a connection after one closed: %v", err)
	} else {
		resp.Body.Close()
	}
}

// A watch ends at its maximum age even when nothing happens, with a
// status that tells its client to resume.
func TestAnIdleWatchEndsAtItsMaximumAge(t *testing.T) {
	srv := servertest.StartWith(t, servertest.Options{Limits: limits.Limits{WatchMaxAge: 300 * time.Millisecond}})
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	start := time.Now()
	stream, err := rs.WatchRatings(context.Background(), &energylabelv1.WatchRatingsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = stream.Recv()
	if took := time.Since(start); status.Code(err) != codes.DeadlineExceeded || took > 5*time.Second {
		t.Errorf("after %s: %v, want DeadlineExceeded after about 300ms", took, err)
	}
}
