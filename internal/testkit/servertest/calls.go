package servertest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/xml"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/energylabel/energylabel/grpcapi"
	"github.com/energylabel/energylabel/internal/wire"
	"github.com/energylabel/energylabel/limits"
	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
	"github.com/energylabel/energylabel/rating/calibration"
	"github.com/energylabel/energylabel/rating/formats/aienergyscore"
	"github.com/energylabel/energylabel/service"
	"github.com/energylabel/energylabel/web"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Dial connects to a test server's gRPC address, closing at the end of the test.
func Dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// WithToken is a context whose calls carry token as a bearer.
func WithToken(token string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
}

// Classification is a text classification result on one H100 drawing
// 150 W, of wh per 1,000 queries.
func Classification(model string, wh float64) *energylabelv1.BenchmarkResult {
	return &energylabelv1.BenchmarkResult{
		Model: model, Task: "text-classification", Hardware: &energylabelv1.Hardware{Accelerator: "H100", Count: 1},
		Queries: 1000, GpuEnergyWh: wh, DurationSeconds: wh * 3600 / 150, // 150 W
	}
}

// ImportAIES imports the bundled leaderboard as a publisher would.
func ImportAIES(t *testing.T, rs energylabelv1.RatingServiceClient, token string) {
	t.Helper()
	results, err := aienergyscore.ParseDir(calibration.AIES202502())
	if err != nil {
		t.Fatal(err)
	}
	for i := range results {
		if _, err := rs.SubmitResult(WithToken(token), &energylabelv1.SubmitResultRequest{Result: wire.BenchmarkResult(&results[i])}); err != nil {
			t.Fatal(err)
		}
	}
}

// ListAll lists every page of a ListRatings.
func ListAll(t *testing.T, rs energylabelv1.RatingServiceClient, req *energylabelv1.ListRatingsRequest) []*energylabelv1.Rating {
	t.Helper()
	var out []*energylabelv1.Rating
	for {
		resp, err := rs.ListRatings(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, resp.Ratings...)
		if resp.NextPageToken == "" {
			return out
		}
		req = proto.CloneOf(req)
		req.PageToken = resp.NextPageToken
	}
}

// CreateRelease creates a release with the admin token.
func CreateRelease(t *testing.T, conn *grpc.ClientConn, adminToken, name string) *energylabelv1.CreateReleaseResponse {
	t.Helper()
	resp, err := energylabelv1.NewAdminServiceClient(conn).CreateRelease(WithToken(adminToken), &energylabelv1.CreateReleaseRequest{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// RefusedFields returns the fields an InvalidArgument error names.
func RefusedFields(t *testing.T, err error) []string {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("got %v, want InvalidArgument", err)
	}
	var fields []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	return fields
}

// TextGeneration is a publisher's text generation result on H100s.
func TextGeneration(model string, params float64, gpus int32, queries, tokens int64, wh, seconds float64) *energylabelv1.BenchmarkResult {
	return &energylabelv1.BenchmarkResult{
		Model: model, Task: "text-generation", Hardware: &energylabelv1.Hardware{Accelerator: "H100", Count: gpus},
		Queries: queries, GpuEnergyWh: wh, DurationSeconds: seconds, ParametersBillions: params,
		Output: &energylabelv1.Output{Tokens: tokens},
	}
}

// PublisherToken creates a publisher token for namespace.
func PublisherToken(t *testing.T, srv *Server, namespace string) string {
	t.Helper()
	resp, err := energylabelv1.NewAdminServiceClient(Dial(t, srv.Addr)).CreateToken(WithToken(srv.AdminToken),
		&energylabelv1.CreateTokenRequest{Namespaces: []string{namespace}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Token
}

// SurveyorToken creates a surveyor token.
func SurveyorToken(t *testing.T, srv *Server) string {
	t.Helper()
	resp, err := energylabelv1.NewAdminServiceClient(Dial(t, srv.Addr)).CreateToken(WithToken(srv.AdminToken),
		&energylabelv1.CreateTokenRequest{Role: "surveyor"})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Token
}

// SelfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func SelfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "energylabel test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, NextProtos: []string{"h2", "http/1.1"}}, pool
}

// MetricsText is what the server's /metrics says now.
func MetricsText(t *testing.T, srv *Server) string {
	t.Helper()
	resp, err := http.Get("http://" + srv.HTTPAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// HTTPGet GETs rawURL with the header pairs given, and reads the body.
func HTTPGet(t *testing.T, rawURL string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", rawURL, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body
}

// WellFormedSVG parses an SVG and returns its text content.
func WellFormedSVG(t *testing.T, body []byte) string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(body))
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return text.String()
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, body)
		}
		switch tok := tok.(type) {
		case xml.CharData:
			text.Write(tok)
		case xml.StartElement:
			if tok.Name.Local == "script" || tok.Name.Local == "foreignObject" {
				t.Fatalf("SVG holds a <%s> element", tok.Name.Local)
			}
		}
	}
}

// ProblemBadge checks that a URL gets a grey badge saying words, as an
// image proxy shows it: 200, SVG, a short max-age.
func ProblemBadge(t *testing.T, rawURL, words string) {
	t.Helper()
	resp, body := HTTPGet(t, rawURL)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" || resp.Header.Get("Cache-Control") != "max-age=60" {
		t.Errorf("%.80s: %d %s %q, want a 200 SVG with a short max-age", rawURL, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	if text := WellFormedSVG(t, body); !strings.Contains(text, "AI energy: "+words) || !bytes.Contains(body, []byte(`fill="#9f9f9f"`)) {
		t.Errorf("%.80s reads %q, want a grey badge saying %q", rawURL, text, words)
	}
	if len(body) > 2048 {
		t.Errorf("%.80s: a badge of %d bytes", rawURL, len(body))
	}
}

// Surfaces builds a gRPC API and a site over svc, under limits l, beside
// whatever serves svc already: for tests that serve them their own way.
func Surfaces(svc *service.Service, l limits.Limits) (*grpcapi.API, *web.HTTP) {
	clients := limits.New(l, svc.Logger())
	api := grpcapi.New(svc, clients)
	return api, web.New(svc, clients, api.HTTPReads())
}

// SubmitClassification submits, as the admin, a text-classification
// result of model on hardware and dataset ("" for the task's default).
func SubmitClassification(t *testing.T, srv *Server, model, hardware, dataset string, wh float64) {
	t.Helper()
	r := Classification(model, wh)
	r.Hardware.Accelerator, r.Dataset = hardware, dataset
	rs := energylabelv1.NewRatingServiceClient(Dial(t, srv.Addr))
	if _, err := rs.SubmitResult(WithToken(srv.AdminToken), &energylabelv1.SubmitResultRequest{Result: r}); err != nil {
		t.Fatal(err)
	}
}
