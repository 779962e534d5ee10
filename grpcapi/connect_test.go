package grpcapi_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/energylabel/energylabel/internal/testkit/servertest"
	"github.com/energylabel/energylabel/limits"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/proto/energylabel/v1/energylabelv1connect"
	"github.com/energylabel/energylabel/service"
)

// rpcURL is a procedure's URL on a test server's HTTP port.
func rpcURL(srv *servertest.Server, method string) string {
	return "http://" + srv.HTTPAddr + "/energylabel.v1.RatingService/" + method
}

// postJSON calls a method as curl -H 'Content-Type: application/json' -d does.
func postJSON(t *testing.T, srv *servertest.Server, method, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", rpcURL(srv, method), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// getJSON calls a read as Connect's GET: the request in the query.
func getJSON(t *testing.T, srv *servertest.Server, method, body string) (*http.Response, []byte) {
	t.Helper()
	return servertest.HTTPGet(t, rpcURL(srv, method)+"?"+url.Values{"encoding": {"json"}, "message": {body}}.Encode())
}

// decoded is a JSON reply read the way a JSON client reads it.
func decoded[M proto.Message](t *testing.T, resp *http.Response, body []byte, into M) M {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", resp.Request.URL.Path, resp.StatusCode, body)
	}
	if err := protojson.Unmarshal(body, into); err != nil {
		t.Fatalf("%s: %v\n%s", resp.Request.URL.Path, err, body)
	}
	return into
}

// connectClient is a Connect client of a test server's HTTP port.
func connectClient(srv *servertest.Server, opts ...connecthttp.Option) energylabelv1connect.RatingServiceClient {
	return energylabelv1connect.NewRatingServiceClient(connect.NewClient(
		connecthttp.NewTransport(http.DefaultClient, "http://"+srv.HTTPAddr, opts...)))
}

func TestJSONOverHTTPAnswersAsGRPCDoes(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	for i, wh := range []float64{0.2, 0.5, 1.1} {
		if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/m"+string(rune('0'+i)), wh)}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()

	// GetRating, as curl POSTs it and as a GET; the second of each is the
	// server's cached answer.
	want, err := rs.GetRating(ctx, &energylabelv1.GetRatingRequest{Model: "acme/m1"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		resp, body := postJSON(t, srv, "GetRating", `{"model":"acme/m1"}`)
		if got := decoded(t, resp, body, &energylabelv1.GetRatingResponse{}); !proto.Equal(got, want) {
			t.Errorf("POST GetRating:\n%s\nwant (gRPC)\n%v", body, want)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("POST GetRating: Content-Type %q", ct)
		}
		if v := resp.Header.Values(service.StalenessHeader); len(v) != 1 {
			t.Errorf("POST GetRating: %s %q, want one value", service.StalenessHeader, v)
		}
		// The CLI's -json names: proto field names, every field.
		for _, field := range []string{`"wh_per_1k_queries"`, `"size_class"`, `"grade"`, `"rank"`} {
			if !bytes.Contains(body, []byte(field)) {
				t.Errorf("POST GetRating lacks %s:\n%s", field, body)
			}
		}
		resp, body = getJSON(t, srv, "GetRating", `{"model":"acme/m1"}`)
		if got := decoded(t, resp, body, &energylabelv1.GetRatingResponse{}); !proto.Equal(got, want) {
			t.Errorf("GET GetRating:\n%s\nwant (gRPC)\n%v", body, want)
		}
	}

	// Every other read, over GET.
	for _, c := range []struct {
		method, request string
		http, grpc      proto.Message
		call            func() (proto.Message, error)
	}{
		{"ListRatings", `{"task":"text-classification"}`, &energylabelv1.ListRatingsResponse{}, nil, func() (proto.Message, error) {
			return rs.ListRatings(ctx, &energylabelv1.ListRatingsRequest{Task: "text-classification"})
		}},
		{"ListTasks", `{}`, &energylabelv1.ListTasksResponse{}, nil, func() (proto.Message, error) {
			return rs.ListTasks(ctx, &energylabelv1.ListTasksRequest{})
		}},
		{"ListAccelerators", `{}`, &energylabelv1.ListAcceleratorsResponse{}, nil, func() (proto.Message, error) {
			return rs.ListAccelerators(ctx, &energylabelv1.ListAcceleratorsRequest{})
		}},
		{"ListDatasets", `{"task":"asr"}`, &energylabelv1.ListDatasetsResponse{}, nil, func() (proto.Message, error) {
			return rs.ListDatasets(ctx, &energylabelv1.ListDatasetsRequest{Task: "asr"})
		}},
		{"ListReleases", `{}`, &energylabelv1.ListReleasesResponse{}, nil, func() (proto.Message, error) {
			return rs.ListReleases(ctx, &energylabelv1.ListReleasesRequest{})
		}},
		{"GetServerInfo", `{}`, &energylabelv1.GetServerInfoResponse{}, nil, func() (proto.Message, error) {
			return rs.GetServerInfo(ctx, &energylabelv1.GetServerInfoRequest{})
		}},
		{"GetHistory", `{"model":"acme/m2"}`, &energylabelv1.GetHistoryResponse{}, nil, func() (proto.Message, error) {
			return rs.GetHistory(ctx, &energylabelv1.GetHistoryRequest{Model: "acme/m2"})
		}},
	} {
		want, err := c.call()
		if err != nil {
			t.Fatalf("%s over gRPC: %v", c.method, err)
		}
		resp, body := getJSON(t, srv, c.method, c.request)
		if got := decoded(t, resp, body, c.http); !proto.Equal(got, want) {
			t.Errorf("GET %s:\n%s\nwant (gRPC)\n%v", c.method, body, want)
		}
	}

	// Logged and counted as the gRPC calls are, saying how they came.
	m := servertest.MetricsText(t, srv)
	if n := metricValue(t, m, `energylabel_rpc_duration_seconds_count{code="OK",method="/energylabel.v1.RatingService/GetRating"}`); n != 5 {
		t.Errorf("%v GetRating calls counted, want 5 (one over gRPC, four over HTTP)", n)
	}
	if n := strings.Count(srv.Logs.String(), "method=/energylabel.v1.RatingService/GetRating code=OK"); n != 5 {
		t.Errorf("%d GetRating calls logged, want 5:\n%s", n, srv.Logs)
	}
	if n := strings.Count(srv.Logs.String(), "protocol=connect"); n != 11 {
		t.Errorf("%d calls logged with protocol=connect, want 11:\n%s", n, srv.Logs)
	}
}

// connectErrorJSON is the Connect protocol's error in JSON.
type connectErrorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Type  string          `json:"type"`
		Value string          `json:"value"`
		Debug json.RawMessage `json:"debug"`
	} `json:"details"`
}

func TestHTTPErrorsAreTheGRPCErrors(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	for _, c := range []struct {
		name, request      string
		status             int
		code               string
		grpc               *energylabelv1.GetRatingRequest // nil: no gRPC twin
		field, messagePart string
	}{
		{"an unrated model is not found", `{"model":"nosuch/model"}`, 404, "not_found",
			&energylabelv1.GetRatingRequest{Model: "nosuch/model"}, "", ""},
		{"a bad model id names the field", `{"model":"not a model"}`, 400, "invalid_argument",
			&energylabelv1.GetRatingRequest{Model: "not a model"}, "model", ""},
		{"an unknown task names the field", `{"model":"acme/m","task":"juggling"}`, 400, "invalid_argument",
			&energylabelv1.GetRatingRequest{Model: "acme/m", Task: "juggling"}, "task", ""},
		{"JSON that does not parse is malformed", `{"model":`, 400, "invalid_argument", nil, "", "malformed request"},
		{"a field of the wrong type is malformed", `{"model":7}`, 400, "invalid_argument", nil, "", "malformed request"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := postJSON(t, srv, "GetRating", c.request)
			var got connectErrorJSON
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("%d %s: %v", resp.StatusCode, body, err)
			}
			if resp.StatusCode != c.status || got.Code != c.code {
				t.Fatalf("%d %s, want %d %s", resp.StatusCode, body, c.status, c.code)
			}
			if !strings.Contains(got.Message, c.messagePart) {
				t.Errorf("message %q lacks %q", got.Message, c.messagePart)
			}
			if c.grpc == nil {
				return
			}
			_, err := rs.GetRating(context.Background(), c.grpc)
			st := status.Convert(err)
			if got.Message != st.Message() {
				t.Errorf("message %q, gRPC says %q", got.Message, st.Message())
			}
			if c.field == "" {
				if len(got.Details) != 0 {
					t.Errorf("details %s, want none", body)
				}
				return
			}
			if len(got.Details) != 1 || got.Details[0].Type != "google.rpc.BadRequest" {
				t.Fatalf("details %s, want one google.rpc.BadRequest", body)
			}
			value, err := base64.RawStdEncoding.DecodeString(got.Details[0].Value)
			if err != nil {
				t.Fatal(err)
			}
			var br errdetails.BadRequest
			if err := proto.Unmarshal(value, &br); err != nil {
				t.Fatal(err)
			}
			if len(st.Details()) != 1 || !proto.Equal(&br, st.Details()[0].(*errdetails.BadRequest)) {
				t.Errorf("BadRequest %v, gRPC gives %v", &br, st.Details())
			}
			if len(br.FieldViolations) != 1 || br.FieldViolations[0].Field != c.field {
				t.Errorf("violations %v, want one of %q", br.FieldViolations, c.field)
			}
			if !bytes.Contains(got.Details[0].Debug, []byte(`"field_violations"`)) {
				t.Errorf("debug form %s does not use proto names", got.Details[0].Debug)
			}
		})
	}

	// The same codes reach a Connect client.
	_, err := connectClient(srv).GetRating(context.Background(), &energylabelv1.GetRatingRequest{Model: "nosuch/model"})
	if connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("Connect client, unrated model: %v", err)
	}
}

func TestOnlyReadsAreServedOverHTTP(t *testing.T) {
	srv := servertest.Start(t)
	resp, body := postJSON(t, srv, "SubmitResult", `{"result":{"model":"acme/m"}}`, "Authorization", "Bearer "+srv.AdminToken)
	var got connectErrorJSON
	json.Unmarshal(body, &got)
	if got.Code != "unimplemented" || !strings.Contains(got.Message, "gRPC port") {
		t.Errorf("SubmitResult over HTTP: %d %s, want unimplemented, pointing at the gRPC port", resp.StatusCode, body)
	}
	req, _ := http.NewRequest("POST", "http://"+srv.HTTPAddr+"/energylabel.v1.AdminService/CreateToken", strings.NewReader(`{"namespaces":["*"]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+srv.AdminToken)
	aresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	aresp.Body.Close()
	if aresp.StatusCode != http.StatusNotFound {
		t.Errorf("CreateToken over HTTP: %d, want 404", aresp.StatusCode)
	}
	if strings.Contains(srv.Logs.String(), srv.AdminToken) {
		t.Errorf("the log holds the admin token:\n%s", srv.Logs)
	}
}

func TestCORSPreflightIsAnsweredForReads(t *testing.T) {
	srv := servertest.Start(t)
	preflight := func(method string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", rpcURL(srv, method), nil)
		req.Header.Set("Origin", "https://example.org")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "connect-protocol-version,connect-timeout-ms,content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := preflight("GetRating")
	if resp.StatusCode/100 != 2 || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "connect-protocol-version") {
		t.Errorf("GetRating preflight: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := preflight("SubmitResult"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("SubmitResult preflight allowed: %d %v", resp.StatusCode, resp.Header)
	}
	// The read itself carries the headers a browser needs.
	resp, _ = postJSON(t, srv, "ListTasks", `{}`, "Origin", "https://example.org")
	if exposed := strings.ToLower(resp.Header.Get("Access-Control-Expose-Headers")); resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(exposed, "grpc-status") || !strings.Contains(exposed, service.StalenessHeader) {
		t.Errorf("ListTasks from another origin: %v", resp.Header)
	}
}

func TestATwoMegabyteBodyIsRefused(t *testing.T) {
	srv := servertest.Start(t)
	body := `{"model":"` + strings.Repeat("a", 2<<20) + `"}`
	resp, b := postJSON(t, srv, "GetRating", body)
	var got connectErrorJSON
	json.Unmarshal(b, &got)
	if got.Code != "resource_exhausted" || len(b) > 1024 {
		t.Errorf("2 MiB request: %d %.300s, want a short resource_exhausted", resp.StatusCode, b)
	}
	if !strings.Contains(srv.Logs.String(), "code=ResourceExhausted") {
		t.Errorf("the refusal is not logged:\n%s", srv.Logs)
	}
	// Just under the limit is read, and answered on its merits.
	body = `{"model":"` + strings.Repeat("a", 1<<20-20) + `"}`
	resp, b = postJSON(t, srv, "GetRating", body)
	if json.Unmarshal(b, &got); got.Code != "invalid_argument" {
		t.Errorf("1 MiB request: %d %.300s, want invalid_argument", resp.StatusCode, b)
	}
}

func TestGRPCWebAndConnectClientsGetTheGRPCAnswers(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/m", 0.3)}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	want, err := rs.GetRating(ctx, &energylabelv1.GetRatingRequest{Model: "acme/m"})
	if err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string][]connecthttp.Option{
		"gRPC-Web":          {connecthttp.WithGRPCWeb()},
		"Connect, protobuf": nil,
		"Connect, JSON":     {connecthttp.WithProtoJSON()},
		"Connect, GET":      {connecthttp.WithHTTPGet()},
	} {
		c := connectClient(srv, opts...)
		got, err := c.GetRating(ctx, &energylabelv1.GetRatingRequest{Model: "acme/m"})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !proto.Equal(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
		_, err = c.GetRating(ctx, &energylabelv1.GetRatingRequest{Model: "not a model"})
		if connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Errorf("%s, bad model: %v", name, err)
		}
	}
	if !strings.Contains(srv.Logs.String(), "protocol=grpcweb") {
		t.Errorf("no call logged with protocol=grpcweb:\n%s", srv.Logs)
	}
}

// watchOverHTTP opens a WatchRatings stream as curl or a browser's fetch
// does: the request in one envelope, with its length, and each event in an
// envelope of the response, until one that ends the stream.
func watchOverHTTP(t *testing.T, ctx context.Context, hc *http.Client, base, request string) (events <-chan *energylabelv1.WatchRatingsResponse, ended <-chan connectErrorJSON, proto string) {
	t.Helper()
	body := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(request)))
	body = append(body, request...)
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/energylabel.v1.RatingService/WatchRatings", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/connect+json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("WatchRatings: %d", resp.StatusCode)
	}
	ev, end := make(chan *energylabelv1.WatchRatingsResponse), make(chan connectErrorJSON, 1)
	go func() {
		defer resp.Body.Close()
		for {
			var head [5]byte
			if _, err := io.ReadFull(resp.Body, head[:]); err != nil {
				end <- connectErrorJSON{Code: "read: " + err.Error()}
				return
			}
			msg := make([]byte, binary.BigEndian.Uint32(head[1:]))
			if _, err := io.ReadFull(resp.Body, msg); err != nil {
				end <- connectErrorJSON{Code: "read: " + err.Error()}
				return
			}
			if head[0]&2 != 0 { // the end of the stream
				var e struct{ Error connectErrorJSON }
				json.Unmarshal(msg, &e)
				end <- e.Error
				return
			}
			var m energylabelv1.WatchRatingsResponse
			if err := protojson.Unmarshal(msg, &m); err != nil {
				end <- connectErrorJSON{Code: "decode: " + err.Error()}
				return
			}
			ev <- &m
		}
	}()
	return ev, end, resp.Proto
}

// nextEvent submits a result and waits for its event.
func nextEvent(t *testing.T, srv *servertest.Server, events <-chan *energylabelv1.WatchRatingsResponse, ended <-chan connectErrorJSON, model string) {
	t.Helper()
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification(model, 0.4)}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-events:
		if got := m.GetEvents()[0].GetRating().GetModel(); got != model {
			t.Errorf("event for %s, want %s", got, model)
		}
	case e := <-ended:
		t.Fatalf("the watch ended: %+v", e)
	case <-time.After(5 * time.Second):
		t.Fatalf("no event for %s within 5 s", model)
	}
}

func TestAWatchOverHTTPOutlivesTheServersTimeouts(t *testing.T) {
	serverTLS, pool := servertest.SelfSigned(t)
	for _, c := range []struct {
		name  string
		tls   bool
		proto string
	}{{"HTTP/1.1", false, "HTTP/1.1"}, {"HTTP/2 over TLS", true, "HTTP/2.0"}} {
		t.Run(c.name, func(t *testing.T) {
			srv := servertest.Start(t)
			// The HTTP port's handler, in a server whose timeouts are short.
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			_, site := servertest.Surfaces(srv.Server, limits.Limits{})
			hs := &http.Server{Handler: site, ReadHeaderTimeout: 200 * time.Millisecond,
				ReadTimeout: 300 * time.Millisecond, WriteTimeout: 500 * time.Millisecond}
			hc, base := http.DefaultClient, "http://"+l.Addr().String()
			if c.tls {
				hs.TLSConfig = serverTLS
				go hs.ServeTLS(l, "", "")
				hc = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
				base = "https://" + l.Addr().String()
			} else {
				go hs.Serve(l)
			}
			defer hs.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			events, ended, proto := watchOverHTTP(t, ctx, hc, base, `{"task":"text-classification"}`)
			if proto != c.proto {
				t.Fatalf("served over %s", proto)
			}
			nextEvent(t, srv, events, ended, "acme/first")
			time.Sleep(time.Second)
			nextEvent(t, srv, events, ended, "acme/second")
		})
	}
}

func TestAWatchOverHTTPEndsAtShutdown(t *testing.T) {
	srv := servertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	events, ended, _ := watchOverHTTP(t, ctx, http.DefaultClient, "http://"+srv.HTTPAddr, `{"task":"text-classification"}`)
	nextEvent(t, srv, events, ended, "acme/first")
	start := time.Now()
	srv.Stop(t)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %s with a watch open", d)
	}
	select {
	case e := <-ended:
		if e.Code != "unavailable" || !strings.Contains(e.Message, "resume") {
			t.Errorf("the watch ended with %+v, want unavailable, saying to resume", e)
		}
	case <-time.After(5 * time.Second):
		t.Error("the watch did not end at shutdown")
	}
	if !strings.Contains(srv.Logs.String(), "method=/energylabel.v1.RatingService/WatchRatings code=Unavailable") {
		t.Errorf("the watch's end is not logged:\n%s", srv.Logs)
	}
}

func TestWatchRatingsOverConnectAndGRPCWeb(t *testing.T) {
	srv := servertest.Start(t)
	rs := energylabelv1.NewRatingServiceClient(servertest.Dial(t, srv.Addr))
	for name, opts := range map[string][]connecthttp.Option{
		"Connect, JSON": {connecthttp.WithProtoJSON()},
		"gRPC-Web":      {connecthttp.WithGRPCWeb()},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		stream, err := connectClient(srv, opts...).WatchRatings(ctx, &energylabelv1.WatchRatingsRequest{Model: "acme/w"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := rs.SubmitResult(servertest.WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: servertest.Classification("acme/w", 0.4)}); err != nil {
			t.Fatal(err)
		}
		m, err := stream.Receive()
		if err != nil || m.GetEvents()[0].GetRating().GetModel() != "acme/w" {
			t.Errorf("%s: %v %v", name, m, err)
		}
		stream.Close()
		cancel()
	}
	stream, err := connectClient(srv).WatchRatings(context.Background(), &energylabelv1.WatchRatingsRequest{StartRevision: -1})
	if err == nil {
		_, err = stream.Receive()
	}
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Errorf("a negative start revision: %v, want InvalidArgument", err)
	}
}

func TestOpenAPIDocumentsTheReads(t *testing.T) {
	srv := servertest.Start(t)
	resp, body := servertest.HTTPGet(t, "http://"+srv.HTTPAddr+"/openapi.json")
	var doc struct {
		OpenAPI string                     `json:"openapi"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/openapi.json: %d %v", resp.StatusCode, err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q, want 3.x", doc.OpenAPI)
	}
	for method := range energylabelv1.RatingService_ServiceDesc.Methods {
		name := energylabelv1.RatingService_ServiceDesc.Methods[method].MethodName
		_, documented := doc.Paths["/energylabel.v1.RatingService/"+name]
		if documented != (name != "SubmitResult" && name != "VerifyResult") {
			t.Errorf("%s documented: %v", name, documented)
		}
	}
	if _, ok := doc.Paths["/energylabel.v1.RatingService/WatchRatings"]; !ok {
		t.Error("WatchRatings is not documented")
	}
	if resp, _ := servertest.HTTPGet(t, "http://"+srv.HTTPAddr+"/openapi.json", "If-None-Match", resp.Header.Get("ETag")); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", resp.StatusCode)
	}
}
