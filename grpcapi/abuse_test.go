package grpcapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/energylabel/energylabel/grpcapi"
	"github.com/energylabel/energylabel/internal/testkit/servertest"
	"github.com/energylabel/energylabel/limits"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating"
	"github.com/energylabel/energylabel/rating/calibration"
	"github.com/energylabel/energylabel/service"
	"github.com/energylabel/energylabel/storage/boltdb"
)

func statusSize(t *testing.T, err error) int {
	t.Helper()
	b, merr := proto.Marshal(status.Convert(err).Proto())
	if merr != nil {
		t.Fatal(merr)
	}
	return len(b)
}

func TestAMegabyteModelIDGetsAShortErrorAndAShortLogLine(t *testing.T) {
	// A public read's InvalidArgument logs at debug.
	srv := servertest.StartWith(t, servertest.Options{LogLevel: slog.LevelDebug})
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	model := "a/" + strings.Repeat("\x01", 1_000_000)
	before := srv.Logs.Len()
	_, err := rs.GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: model})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("GetRating with a 1 MB model id: %v, want InvalidArgument", status.Code(err))
	}
	msg := status.Convert(err).Message()
	if len(msg) >= 1024 || statusSize(t, err) >= 2048 {
		t.Errorf("the answer is %d bytes (message %d), want under 1 KB of message", statusSize(t, err), len(msg))
	}
	if !strings.Contains(msg, "bytes") {
		t.Errorf("message %q does not say how long it was", msg)
	}
	if grew := srv.Logs.Len() - before; grew >= 4096 || grew == 0 {
		t.Errorf("the log grew by %d bytes, want a line under 4 KB", grew)
	}
	if strings.Contains(srv.Logs.String(), "\x01") {
		t.Error("a control character reached the log")
	}
}

func TestThousandsOfBadRunsGiveABoundedErrorAndOneReason(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	r := servertest.Classification("acme/runs", 1)
	r.RunEnergiesWh = make([]float64, 120_000)
	for i := range r.RunEnergiesWh {
		r.RunEnergiesWh[i] = -1
	}
	before := srv.Logs.Len()
	_, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: r})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("120,000 negative runs: %v, want InvalidArgument", status.Code(err))
	}
	if n := statusSize(t, err); n > 16<<10 {
		t.Errorf("the error is %d bytes, want it bounded", n)
	}
	fields := fieldsOf(err)
	if len(fields) == 0 || len(fields) > 20 || !strings.HasPrefix(fields[0], "run_energies_wh") {
		t.Errorf("%d violations starting %v, want 1 to 20 naming run_energies_wh", len(fields), fields[:min(len(fields), 2)])
	}
	if grew := srv.Logs.Len() - before; grew >= 4096 {
		t.Errorf("the log grew by %d bytes, want under 4 KB", grew)
	}

	// Rejections of different runs count under one reason.
	for i := range 45 {
		r := servertest.Classification("acme/runs", 1)
		r.RunEnergiesWh = make([]float64, i+1)
		for j := range r.RunEnergiesWh {
			r.RunEnergiesWh[j] = 1
		}
		r.RunEnergiesWh[i] = -1
		rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: r})
	}
	m := servertest.MetricsText(t, srv)
	if want := `energylabel_submissions_total{outcome="rejected",reason="run_energies_wh"} 46`; !strings.Contains(m, want) {
		t.Errorf("/metrics lacks %s", want)
	}
	if series := regexp.MustCompile(`energylabel_submissions_total\{[^}]*\}`).FindAllString(m, -1); len(series) != 1 {
		t.Errorf("%d submission series, want 1: %v", len(series), series)
	}
}

func fieldsOf(err error) []string {
	var fields []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.FieldViolations {
				fields = append(fields, v.Field)
			}
		}
	}
	return fields
}

func TestATokenThatHasExpiredAlreadyIsNotCreated(t *testing.T) {
	srv := servertest.Start(t)
	admin := energylabelv1.NewAdminServiceClient(servertest.Dial(t, srv.Addr))
	_, err := admin.CreateToken(servertest.WithToken(srv.AdminToken), &energylabelv1.CreateTokenRequest{
		Namespaces: []string{"acme"}, ExpiresAt: timestamppb.New(time.Now().Add(-time.Minute)),
	})
	if status.Code(err) != codes.InvalidArgument || fmt.Sprint(fieldsOf(err)) != "[expires_at]" {
		t.Errorf("token expiring a minute ago: %v, want InvalidArgument naming expires_at", err)
	}
	if ts, err := srv.Backend.Tokens(context.Background()); err != nil || len(ts) != 0 {
		t.Errorf("%d tokens stored, %v; want none", len(ts), err)
	}
	if _, err := admin.CreateToken(servertest.WithToken(srv.AdminToken), &energylabelv1.CreateTokenRequest{
		Namespaces: []string{"acme"}, ExpiresAt: timestamppb.New(time.Now().Add(time.Hour)),
	}); err != nil {
		t.Errorf("token expiring in an hour: %v", err)
	}
}

// rawCodec sends bytes as they are, to send what no proto encoder would.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*v.(*[]byte) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

func TestMalformedRequestsAreInvalidArgumentLoggedAndCounted(t *testing.T) {
	srv := servertest.StartWith(t, servertest.Options{LogLevel: slog.LevelDebug})
	conn := servertest.Dial(t, srv.Addr)
	// Field 1 (model) announces 100 bytes and has 2; then a field with
	// wire type 7, which does not exist.
	for _, garbage := range [][]byte{{0x0a, 100, 'a', '/'}, {0x0f, 0x01}} {
		var reply []byte
		err := conn.Invoke(context.Background(), "/energylabel.v1.RatingService/GetRating", &garbage, &reply, grpc.ForceCodec(rawCodec{}))
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("GetRating(% x): %v, want InvalidArgument", garbage, err)
		}
		err = conn.Invoke(servertest.WithToken(srv.AdminToken), "/energylabel.v1.RatingService/SubmitResult", &garbage, &reply, grpc.ForceCodec(rawCodec{}))
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("SubmitResult(% x): %v, want InvalidArgument", garbage, err)
		}
	}
	// The same in a stream.
	stream, err := conn.NewStream(servertest.WithToken(srv.AdminToken), &grpc.StreamDesc{ClientStreams: true},
		"/energylabel.v1.AdminService/ImportResults", grpc.ForceCodec(rawCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	garbage := []byte{0x0a, 100, 'a'}
	stream.SendMsg(&garbage)
	stream.CloseSend()
	var reply []byte
	if err := stream.RecvMsg(&reply); status.Code(err) != codes.InvalidArgument {
		t.Errorf("ImportResults with a malformed message: %v, want InvalidArgument", err)
	}

	m := servertest.MetricsText(t, srv)
	for _, want := range []string{
		`energylabel_rpc_duration_seconds_count{code="InvalidArgument",method="/energylabel.v1.RatingService/GetRating"} 2`,
		`energylabel_rpc_duration_seconds_count{code="InvalidArgument",method="/energylabel.v1.RatingService/SubmitResult"} 2`,
		`energylabel_rpc_duration_seconds_count{code="InvalidArgument",method="/energylabel.v1.AdminService/ImportResults"} 1`,
		`energylabel_submissions_total{outcome="rejected",reason="other"} 2`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	logs := srv.Logs.String()
	if n := strings.Count(logs, "code=InvalidArgument"); n != 5 {
		t.Errorf("%d log lines with code=InvalidArgument, want 5:\n%s", n, logs)
	}
	if !strings.Contains(logs, "malformed request") {
		t.Errorf("the log does not say the requests were malformed:\n%s", logs)
	}
}

func TestAnInternalErrorNamesNoPath(t *testing.T) {
	dir := t.TempDir()
	st, err := boltdb.Open(dir, boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	scheme, err := calibration.Grade2025_1()
	if err != nil {
		t.Fatal(err)
	}
	var logs servertest.SyncBuffer
	srv, err := service.New(service.Config{
		Backend: st, Schemes: []*rating.GradeScheme{scheme}, AdminToken: servertest.AdminToken,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	g, _ := grpcapi.New(srv, limits.New(limits.Limits{}, nil)).NewGRPC()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(l)
	t.Cleanup(g.Stop)
	st.Close() // every write now fails inside bbolt
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, l.Addr().String()))
	_, err = rs.SubmitResult(servertest.WithToken(servertest.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/x", 1)})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("submission to a closed store: %v, want Unavailable", err)
	}
	if msg := status.Convert(err).Message(); strings.Contains(msg, dir) || strings.Contains(msg, "energylabel.db") || strings.Contains(msg, "not open") {
		t.Errorf("message %q tells the client the server's internals", msg)
	}
	if !strings.Contains(logs.String(), "cause=") {
		t.Errorf("the log does not say what failed:\n%s", logs.String())
	}
}

func TestIfNoneMatchComparesWeakly(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/clf", 0.2)}); err != nil {
		t.Fatal(err)
	}
	badge := "http://" + srv.HTTPAddr + "/badge/acme/clf.svg"
	resp, _ := servertest.HTTPGet(t, badge)
	etag := resp.Header.Get("ETag")
	for _, inm := range []string{etag, "W/" + etag, `"other", W/` + etag, "*"} {
		if resp, _ := servertest.HTTPGet(t, badge, "If-None-Match", inm); resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match: %s gave %d, want 304", inm, resp.StatusCode)
		}
	}
	if resp, _ := servertest.HTTPGet(t, badge, "If-None-Match", `W/"other"`); resp.StatusCode != http.StatusOK {
		t.Errorf(`If-None-Match: W/"other" gave %d, want 200`, resp.StatusCode)
	}
}

// metricValue reads one sample of /metrics.
func metricValue(t *testing.T, metrics, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(series) + ` ([0-9.e+]+)`).FindStringSubmatch(metrics)
	if m == nil {
		t.Fatalf("/metrics lacks %s", series)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestAFloodOfUniqueQueryStringsLeavesTheCachesSmall(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/tiny", 0.2)}); err != nil {
		t.Fatal(err)
	}
	requests := 20_000
	if testing.Short() {
		requests = 2_000
	}
	badge := "http://" + srv.HTTPAddr + "/badge/acme/tiny.svg"
	filler := strings.Repeat("x", 60<<10)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := range 4 {
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			for i := w; i < requests; i += 4 {
				resp, err := client.Get(badge + "?u=" + strconv.Itoa(i) + filler)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d requests failed", n, requests)
	}
	m := servertest.MetricsText(t, srv)
	bytes := metricValue(t, m, `energylabel_cache_bytes{cache="responses"}`)
	entries := metricValue(t, m, `energylabel_cache_entries{cache="responses"}`)
	hits := metricValue(t, m, `energylabel_cache_hits_total{cache="responses"}`)
	t.Logf("after %d requests of 60 KB query strings: the response cache holds %v entries in %v bytes, %v hits", requests, entries, bytes, hits)
	if entries != 1 || bytes > 8<<10 {
		t.Errorf("%d requests with unique query strings left %v entries in %v bytes in the response cache, want the one badge", requests, entries, bytes)
	}
	if hits < float64(requests-4) {
		t.Errorf("%v hits of %d requests for one badge", hits, requests)
	}
	if img := metricValue(t, m, `energylabel_cache_entries{cache="images"}`); img != 1 {
		t.Errorf("the image cache holds %v images, want 1", img)
	}
	start := time.Now()
	resp, body := servertest.HTTPGet(t, badge+"?task=text-classification")
	if took := time.Since(start); resp.StatusCode != http.StatusOK || !strings.Contains(servertest.WellFormedSVG(t, body), "Wh/1k") || took > time.Second {
		t.Errorf("after the flood the badge took %s: %d %s", took, resp.StatusCode, body)
	}
}

func TestPagesAnswerLongPathsShortly(t *testing.T) {
	srv := servertest.Start(t)
	long := strings.Repeat("%01", 20_000)
	for _, prefix := range []string{"/tasks/", "/models/acme/", "/label/acme/"} {
		suffix := ""
		if prefix == "/label/acme/" {
			suffix = ".png"
		}
		_, short := servertest.HTTPGet(t, "http://"+srv.HTTPAddr+prefix+"x%01"+suffix)
		path := prefix + long + suffix
		resp, body := servertest.HTTPGet(t, "http://"+srv.HTTPAddr+path)
		// An error page is a styled page (an unknown task's lists the
		// tasks), and a label a grey image saying what is wrong, with
		// status 200: either is as large as for a short path, whatever
		// the path held, and a few KB.
		if wantStatus := resp.StatusCode >= 400 || prefix == "/label/acme/"; !wantStatus || len(body) > len(short)+1<<10 || len(body) > 16<<10 {
			t.Errorf("GET %.30s…: %d with %d bytes (%d for a short path), want an error of a few KB that does not grow with the path", path, resp.StatusCode, len(body), len(short))
		}
	}
	// A badge answers even an error with a badge, as image proxies show it.
	servertest.ProblemBadge(t, "http://"+srv.HTTPAddr+"/badge/acme/"+long+".svg", "bad model id")
}

func TestAMegabyteToolNameIsRefusedAndListingsKeepWorking(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	for i := range 3 {
		if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification(fmt.Sprintf("acme/m%d", i), 0.9)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, field := range []string{"tool.name", "tool.version", "precision"} {
		r := servertest.Classification("acme/big", 0.9)
		r.Tool = &energylabelv1.Tool{}
		big := strings.Repeat("x", 1000*1000)
		switch field {
		case "tool.name":
			r.Tool.Name = big
		case "tool.version":
			r.Tool.Version = "\x1b[31m" + big[:100]
		case "precision":
			r.Precision = big[:1000]
		}
		_, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: r})
		if fields := servertest.RefusedFields(t, err); !slices.Contains(fields, field) || len(status.Convert(err).Message()) > 1024 {
			t.Errorf("%s: refused naming %v with a %d-byte message", field, fields, len(status.Convert(err).Message()))
		}
	}
	resp, err := rs.ListRatings(context.Background(), &energylabelv1.ListRatingsRequest{Task: "text-classification"})
	if err != nil || len(resp.GetRatings()) != 3 {
		t.Errorf("list after the refusals: %d ratings, %v", len(resp.GetRatings()), err)
	}
}
