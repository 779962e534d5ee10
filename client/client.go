// Package client is the Go client of the energylabel gRPC API, for programs that submit benchmark results and read energy ratings.
package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	energylabelv1 "github.com/energylabel/energylabel/proto/energylabel/v1"
)

// Client talks to one energylabel server. It is safe for concurrent use.
type Client struct {
	addr    string
	conn    *grpc.ClientConn
	ratings energylabelv1.RatingServiceClient
	admin   energylabelv1.AdminServiceClient
}

// Option configures Dial.
type Option func(*options)

type options struct {
	token          string
	tls            *tls.Config
	caFile         string
	connectTimeout time.Duration
	dialOpts       []grpc.DialOption
}

// WithToken sends "authorization: Bearer <token>" with every call. Over
// plaintext the token is only sent to a loopback address.
func WithToken(token string) Option {
	return func(o *options) { o.token = token }
}

// WithTLS connects over TLS with the given configuration; nil uses the
// system roots.
func WithTLS(cfg *tls.Config) Option {
	return func(o *options) {
		if cfg == nil {
			cfg = &tls.Config{}
		}
		o.tls, o.caFile = cfg, ""
	}
}

// WithCAFile connects over TLS, trusting the PEM certificates in path.
func WithCAFile(path string) Option {
	return func(o *options) { o.caFile, o.tls = path, nil }
}

// WithInsecure connects in plaintext, which is the default.
func WithInsecure() Option {
	return func(o *options) { o.tls, o.caFile = nil, "" }
}

// WithConnectTimeout bounds each attempt to connect, handshakes included:
// a call made while the server cannot be reached fails with a
// *ConnectError after about d, instead of gRPC's 20 s. Zero keeps gRPC's.
func WithConnectTimeout(d time.Duration) Option {
	return func(o *options) { o.connectTimeout = d }
}

// WithDialOptions adds gRPC dial options, applied after the client's own.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOpts = append(o.dialOpts, opts...) }
}

// Dial prepares a client for the server at addr (host:port or a gRPC target).
// Like grpc.NewClient it does not connect; the first call does.
func Dial(addr string, opts ...Option) (*Client, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	transport := insecure.NewCredentials()
	secure := false
	switch {
	case o.caFile != "":
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificates", o.caFile)
		}
		transport, secure = credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}), true
	case o.tls != nil:
		transport, secure = credentials.NewTLS(o.tls.Clone()), true
	}
	dialOpts := []grpc.DialOption{grpc.WithTransportCredentials(transport)}
	if o.token != "" {
		// A bearer token must not cross a network in clear text.
		if !secure && !isLoopback(addr) {
			return nil, fmt.Errorf("dial %s: refusing to send a token in plaintext to a non-loopback address; use TLS", addr)
		}
		dialOpts = append(dialOpts, grpc.WithPerRPCCredentials(bearer{token: o.token, requireTLS: secure}))
	}
	if o.connectTimeout > 0 {
		dialOpts = append(dialOpts, grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.DefaultConfig, MinConnectTimeout: o.connectTimeout,
		}))
	}
	conn, err := grpc.NewClient(addr, append(dialOpts, o.dialOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return &Client{
		addr:    addr,
		conn:    conn,
		ratings: energylabelv1.NewRatingServiceClient(conn),
		admin:   energylabelv1.NewAdminServiceClient(conn),
	}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// bearer sends a bearer token as per-call metadata.
type bearer struct {
	token      string
	requireTLS bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

// RequireTransportSecurity is false only for plaintext to loopback, which
// Dial has checked.
func (b bearer) RequireTransportSecurity() bool { return b.requireTLS }

// isLoopback reports whether a gRPC target names this machine.
func isLoopback(target string) bool {
	if strings.HasPrefix(target, "unix:") || strings.HasPrefix(target, "unix-abstract:") {
		return true
	}
	if i := strings.Index(target, ":///"); i >= 0 {
		target = target[i+len(":///"):]
	}
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		host = strings.Trim(target, "[]")
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Submit stores one benchmark result and returns its id and ratings.
// payloadSHA256 is the hex SHA-256 of the raw file it came from, or empty.
func (c *Client) Submit(ctx context.Context, r *energylabelv1.BenchmarkResult, payloadSHA256 string) (*energylabelv1.SubmitResultResponse, error) {
	resp, err := c.ratings.SubmitResult(ctx, &energylabelv1.SubmitResultRequest{Result: r, PayloadSha256: payloadSHA256})
	if err != nil {
		return nil, c.fromStatus(err)
	}
	return resp, nil
}

// Verify sends a surveyor's own measurement of a model, which the server
// compares with the model's current declared result; it needs a surveyor
// token.
func (c *Client) Verify(ctx context.Context, r *energylabelv1.BenchmarkResult) (*energylabelv1.VerifyResultResponse, error) {
	resp, err := c.ratings.VerifyResult(ctx, &energylabelv1.VerifyResultRequest{Result: r})
	if err != nil {
		return nil, c.fromStatus(err)
	}
	return resp, nil
}

// GetRating returns a model's current ratings. task and scheme are optional.
func (c *Client) GetRating(ctx context.Context, model, task, scheme string) ([]*energylabelv1.Rating, error) {
	resp, err := c.ratings.GetRating(ctx, &energylabelv1.GetRatingRequest{Model: model, Task: task, Scheme: scheme})
	if err != nil {
		return nil, c.fromStatus(err)
	}
	return resp.GetRatings(), nil
}

// BadgeRating returns the one rating a badge or label of model shows for
// task, hardware and dataset (each optional), as the server chooses it;
// a model rated for several tasks needs a task.
func (c *Client) BadgeRating(ctx context.Context, model, task, hardware, dataset, scheme string) (*energylabelv1.Rating, error) {
	resp, err := c.ratings.GetRating(ctx, &energylabelv1.GetRatingRequest{Model: model, Task: task, Hardware: hardware, Dataset: dataset, Scheme: scheme, ForBadge: true})
	if err != nil {
		return nil, c.fromStatus(err)
	}
	if len(resp.GetRatings()) != 1 {
		return nil, fmt.Errorf("the server chose %d ratings for a badge, not one", len(resp.GetRatings()))
	}
	return resp.GetRatings()[0], nil
}

// ListRatings returns one page of a cohort filter's ratings, best first.
func (c *Client) ListRatings(ctx context.Context, req *energylabelv1.ListRatingsRequest) (*energylabelv1.ListRatingsResponse, error) {
	resp, err := c.ratings.ListRatings(ctx, req)
	if err != nil {
		return nil, c.fromStatus(err)
	}
	return resp, nil
}

// Ratings yields every rating matching filter, following page tokens. The
// filter's page_token is the starting point; the filter is not modified.
func (c *Client) Ratings(ctx context.Context, filter *energylabelv1.ListRatingsRequest) iter.Seq2[*energylabelv1.Rating, error] {
	return func(yield func(*energylabelv1.Rating, error) bool) {
		req := &energylabelv1.ListRatingsRequest{}
		if filter != nil {
			req = proto.CloneOf(filter)
		}
		seen := map[string]bool{}
		for {
			resp, err := c.ListRatings(ctx, req)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, r := range resp.GetRatings() {
				if !yield(r, nil) {
					return
				}
			}
			next := resp.GetNextPageToken()
			if next == "" {
				return
			}
			// A server that hands out a token twice would loop forever.
			if seen[next] {
				yield(nil, fmt.Errorf("list ratings: server repeated page token %q", next))
				return
			}
			seen[next] = true
			req.PageToken = next
		}
	}
}

// AllRatings returns every rating matching filter, over all pages.
func (c *Client) AllRatings(ctx context.Context, filter *energylabelv1.ListRatingsRequest) ([]*energylabelv1.Rating, error) {
	var all []*energylabelv1.Rating
	for r, err := range c.Ratings(ctx, filter) {
		if err != nil {
			return nil, err
		}
		all = append(all, r)
	}
	return all, nil
}

// ListTasks returns the built-in task classes.
func (c *Client) ListTasks(ctx context.Context) ([]*energylabelv1.Task, error) {
	resp, err := c.ratings.ListTasks(ctx, &energylabelv1.ListTasksRequest{})
	if err != nil {
		return nil, c.fromStatus(err)
	}
	return resp.GetTasks(), nil
}

// CreateToken creates a publisher token for namespaces ("*" for all). A zero
// expires means the token does not expire. The secret token is returned once.
func (c *Client) CreateToken(ctx context.Context, namespaces []string, expires time.Time) (id, token string, err error) {
	return c.createToken(ctx, &energylabelv1.CreateTokenRequest{Namespaces: namespaces}, expires)
}

// CreateSurveyorToken creates a surveyor token, which verifies any
// namespace's models and submits no declared results.
func (c *Client) CreateSurveyorToken(ctx context.Context, expires time.Time) (id, token string, err error) {
	return c.createToken(ctx, &energylabelv1.CreateTokenRequest{Role: "surveyor"}, expires)
}

func (c *Client) createToken(ctx context.Context, req *energylabelv1.CreateTokenRequest, expires time.Time) (id, token string, err error) {
	if !expires.IsZero() {
		req.ExpiresAt = timestamppb.New(expires)
	}
	resp, err := c.admin.CreateToken(ctx, req)
	if err != nil {
		return "", "", c.fromStatus(err)
	}
	if resp.GetToken() == "" {
		return "", "", errors.New("create token: server returned no token")
	}
	return resp.GetId(), resp.GetToken(), nil
}

// RevokeToken revokes a publisher token by id.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	_, err := c.admin.RevokeToken(ctx, &energylabelv1.RevokeTokenRequest{Id: id})
	return c.fromStatus(err)
}

// ListTokens lists publisher tokens, without their secrets.
func (c *Client) ListTokens(ctx context.Context) ([]*energylabelv1.TokenInfo, error) {
	resp, err := c.admin.ListTokens(ctx, &energylabelv1.ListTokensRequest{})
	if err != nil {
		return nil, c.fromStatus(err)
	}
	return resp.GetTokens(), nil
}

// Backup streams a consistent snapshot of the server's database to w and
// returns its size. Saved as DIR/energylabel.db, it is a data directory
// energylabeld can start on. It needs the admin token.
func (c *Client) Backup(ctx context.Context, w io.Writer) (int64, error) {
	stream, err := c.admin.Backup(ctx, &energylabelv1.BackupRequest{})
	if err != nil {
		return 0, c.fromStatus(err)
	}
	var written, announced int64
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return written, c.fromStatus(err)
		}
		if msg.GetSize() > 0 {
			announced = msg.GetSize()
		}
		n, err := w.Write(msg.GetChunk())
		written += int64(n)
		if err != nil {
			return written, err
		}
	}
	if written != announced {
		return written, fmt.Errorf("backup ended after %d of %d bytes", written, announced)
	}
	return written, nil
}

// ListAccelerators returns the accelerator registry.
func (c *Client) ListAccelerators(ctx context.Context) ([]*energylabelv1.Accelerator, error) {
	resp, err := c.ratings.ListAccelerators(ctx, &energylabelv1.ListAcceleratorsRequest{})
	if err != nil {
		return nil, c.fromStatus(err)
	}
	return resp.GetAccelerators(), nil
}

// ListDatasets returns the registered datasets of a task, or of every task
// when task is empty.
func (c *Client) ListDatasets(ctx context.Context, task string) ([]*energylabelv1.Dataset, error) {
	resp, err := c.ratings.ListDatasets(ctx, &energylabelv1.ListDatasetsRequest{Task: task})
	if err != nil {
		return nil, c.fromStatus(err)
	}
	return resp.GetDatasets(), nil
}

// ListReleases returns the star releases, oldest first.
func (c *Client) ListReleases(ctx context.Context) ([]*energylabelv1.Release, error) {
	resp, err := c.ratings.ListReleases(ctx, &energylabelv1.ListReleasesRequest{})
	if err != nil {
		return nil, c.fromStatus(err)
	}
	return resp.GetReleases(), nil
}

// CreateRelease freezes every cohort's star bounds under name; with dryRun
// it only reports how many ratings' stars would change. It needs the admin
// token.
func (c *Client) CreateRelease(ctx context.Context, name string, dryRun bool) (*energylabelv1.CreateReleaseResponse, error) {
	resp, err := c.admin.CreateRelease(ctx, &energylabelv1.CreateReleaseRequest{Name: name, DryRun: dryRun})
	return resp, c.fromStatus(err)
}

// AddAccelerator registers an accelerator variant. It needs the admin token.
func (c *Client) AddAccelerator(ctx context.Context, a *energylabelv1.Accelerator) error {
	_, err := c.admin.AddAccelerator(ctx, &energylabelv1.AddAcceleratorRequest{Accelerator: a})
	return c.fromStatus(err)
}

// AddDataset registers a dataset of a task, with basis "query" or "unit".
// It needs the admin token.
func (c *Client) AddDataset(ctx context.Context, d *energylabelv1.Dataset) error {
	_, err := c.admin.AddDataset(ctx, &energylabelv1.AddDatasetRequest{Dataset: d})
	return c.fromStatus(err)
}

// ServerInfo describes the server: its public base URL, version, grade
// schemes, current star release and registries.
func (c *Client) ServerInfo(ctx context.Context) (*energylabelv1.GetServerInfoResponse, error) {
	resp, err := c.ratings.GetServerInfo(ctx, &energylabelv1.GetServerInfoRequest{})
	if err != nil {
		return nil, c.fromStatus(err)
	}
	return resp, nil
}

// History returns one page of a model's accepted results, oldest first.
func (c *Client) History(ctx context.Context, req *energylabelv1.GetHistoryRequest) (*energylabelv1.GetHistoryResponse, error) {
	resp, err := c.ratings.GetHistory(ctx, req)
	return resp, c.fromStatus(err)
}

// WatchRatings streams rating changes matching req to fn, in revision
// order, until ctx ends, fn returns an error, or the server ends the
// stream. A client that resumes passes the last revision it saw as
// req.StartRevision.
func (c *Client) WatchRatings(ctx context.Context, req *energylabelv1.WatchRatingsRequest, fn func(*energylabelv1.RatingEvent) error) error {
	stream, err := c.ratings.WatchRatings(ctx, req)
	if err != nil {
		return c.fromStatus(err)
	}
	for {
		msg, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return c.fromStatus(err)
		}
		for _, ev := range msg.GetEvents() {
			if err := fn(ev); err != nil {
				return err
			}
		}
	}
}
