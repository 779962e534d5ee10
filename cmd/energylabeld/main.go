// Command energylabeld serves energy ratings of AI models over gRPC and
// HTTP, from an embedded bbolt database.
package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/energylabel/energylabel/rating/calibration"
	"github.com/energylabel/energylabel/rating/formats/aienergyscore"
	"github.com/energylabel/energylabel/server"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/boltdb"
)

// minAdminTokenLen keeps guessable admin tokens out.
const minAdminTokenLen = 32

type config struct {
	dataDir        string
	grpcAddr       string
	httpAddr       string
	adminTokenFile string
	demo           bool
	tlsCert        string
	tlsKey         string
	maxDBSize      int
	logFormat      string
	logLevel       slog.Level
	baseURL        string
	submitLimit    server.RateLimit
	limits         server.Limits
	check          bool
	init           bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("energylabeld", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.dataDir, "data", "./energylabel-data", "data directory holding "+boltdb.FileName)
	fs.StringVar(&c.grpcAddr, "grpc", "127.0.0.1:50051", "gRPC listen address")
	fs.StringVar(&c.httpAddr, "http", "127.0.0.1:8080", "HTTP listen address (badges, labels, pages, /healthz)")
	fs.StringVar(&c.adminTokenFile, "admin-token-file", "", "file holding the admin token (else env ENERGYLABEL_ADMIN_TOKEN)")
	fs.BoolVar(&c.demo, "demo", false, "serve a temporary data directory with the AIES 2025-02 leaderboard imported")
	fs.BoolVar(&c.check, "check", false, "check the data directory's database (bbolt's tx.Check and the store's own reading), report, and exit: 0 when sound")
	fs.BoolVar(&c.init, "init", false, "start an empty database on an empty (0-byte) "+boltdb.FileName+", which is otherwise refused")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "TLS certificate file (PEM); serves gRPC and HTTP over TLS")
	fs.StringVar(&c.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fs.IntVar(&c.maxDBSize, "max-db-size", 0, "maximum database size in bytes; writes beyond it are refused (0: no limit)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "least severe log level: debug, info (one line per call), warn or error")
	fs.Float64Var(&c.submitLimit.Rate, "submit-rate", 5, "submissions per second allowed to each publisher token (0: no limit; the admin token is exempt)")
	fs.IntVar(&c.submitLimit.Burst, "submit-burst", 50, "burst of submissions allowed to each publisher token")
	fs.StringVar(&c.baseURL, "base-url", "", "public HTTP URL that labels link to (default http://<-http address>)")
	fs.DurationVar(&c.limits.StreamTimeout, "stream-timeout", server.DefaultStreamTimeout, "longest a gRPC stream (backup, import) may run")
	fs.DurationVar(&c.limits.StreamIdle, "stream-idle", server.DefaultStreamIdle, "end a gRPC stream whose client reads or sends nothing for this long")
	fs.Func("max-streams", fmt.Sprintf("concurrent gRPC calls per connection (default %d)", server.DefaultMaxStreams), func(v string) error {
		n, err := strconv.ParseUint(v, 10, 32)
		c.limits.MaxStreams = uint32(n)
		return err
	})
	fs.DurationVar(&c.limits.ConnIdle, "conn-idle", server.DefaultConnIdle, "close a gRPC connection without calls for this long")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "energylabeld: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var err error
	if c.check {
		err = check(c.dataDir, stdout)
	} else {
		err = serve(ctx, c, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "energylabeld: %s\n", oneLine(err))
		return 1
	}
	return 0
}

// oneLine is an error as one line, with advice for a database that cannot
// be opened as it is.
func oneLine(err error) string {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	switch {
	case errors.Is(err, boltdb.ErrEmpty):
		msg += "; restore a backup into it, or start with -init to begin an empty database (see README, Backup and restore)"
	case errors.Is(err, boltdb.ErrDamaged):
		msg += "; restore the latest backup (see README, Backup and restore)"
	}
	return msg
}

// check runs the offline consistency check of a data directory.
func check(dir string, stdout io.Writer) error {
	rep, err := boltdb.CheckFile(dir, boltdb.Options{})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d bytes, %d results, %d current ratings, %d tokens\n", rep.Path, rep.Bytes, rep.Results, rep.Current, rep.Tokens)
	for _, p := range rep.Problems {
		fmt.Fprintf(stdout, "problem: %s\n", p)
	}
	if rep.ProblemCount > 0 {
		return fmt.Errorf("check %s: %w: %d problems, the first: %s", rep.Path, boltdb.ErrDamaged, rep.ProblemCount, rep.Problems[0])
	}
	fmt.Fprintln(stdout, "ok: tx.Check found no problem")
	return nil
}

func serve(ctx context.Context, c config, stderr io.Writer) error {
	log := newLogger(c.logFormat, c.logLevel, stderr)
	admin, err := adminToken(c)
	if err != nil {
		return err
	}
	if c.demo {
		dir, err := os.MkdirTemp("", "energylabel-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		c.dataDir = dir
		if admin == "" {
			admin = randomToken()
			fmt.Fprintf(stderr, "demo admin token (this run only): %s\n", admin)
		}
	}
	tlsConfig, err := loadTLS(c.tlsCert, c.tlsKey)
	if err != nil {
		return err
	}
	st, err := boltdb.Open(c.dataDir, boltdb.Options{MaxSize: c.maxDBSize, Init: c.init})
	if err != nil {
		return err
	}
	defer st.Close()
	schemes, err := calibration.Schemes()
	if err != nil {
		return err
	}
	baseURL := c.baseURL
	if baseURL == "" {
		scheme := "http"
		if tlsConfig != nil {
			scheme = "https"
		}
		baseURL = scheme + "://" + c.httpAddr
	}
	srv, err := server.New(server.Config{
		Backend: st, Schemes: schemes, AdminToken: admin, Logger: log, BaseURL: baseURL,
		SubmitLimit: c.submitLimit, Limits: c.limits,
	})
	if err != nil {
		return err
	}
	defer srv.Close() // before the backend closes
	if admin == "" {
		log.Warn("no admin token: the admin API is closed (set ENERGYLABEL_ADMIN_TOKEN or -admin-token-file)")
	}
	if c.demo {
		n, err := importBundled(ctx, srv)
		if err != nil {
			return fmt.Errorf("demo import: %w", err)
		}
		if _, err := srv.CreateRelease(ctx, demoRelease, false); err != nil {
			return fmt.Errorf("demo release: %w", err)
		}
		log.Info("demo data imported", "results", n, "source", "AI Energy Score leaderboard 2025-02", "release", demoRelease, "data", c.dataDir)
	}
	var l server.Listeners
	if l.GRPC, err = net.Listen("tcp", c.grpcAddr); err != nil {
		return err
	}
	if l.HTTP, err = net.Listen("tcp", c.httpAddr); err != nil {
		l.GRPC.Close()
		return err
	}
	return srv.Serve(ctx, l, server.ServeOptions{TLS: tlsConfig})
}

// demoRelease is the star release -demo freezes after importing the
// bundled leaderboard, named after it.
const demoRelease = "aies-2025-02"

// importBundled imports the AIES leaderboard that ships in the binary, as
// the published figures they are.
func importBundled(ctx context.Context, srv *server.Server) (int, error) {
	results, err := aienergyscore.ParseDir(calibration.AIES202502())
	if err != nil {
		return 0, err
	}
	return srv.Import(ctx, results, storage.Audit{TokenID: "demo"})
}

func adminToken(c config) (string, error) {
	token := os.Getenv("ENERGYLABEL_ADMIN_TOKEN")
	if c.adminTokenFile != "" {
		b, err := os.ReadFile(c.adminTokenFile)
		if err != nil {
			return "", fmt.Errorf("admin token file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	if token != "" && len(token) < minAdminTokenLen {
		return "", fmt.Errorf("the admin token must have at least %d characters, it has %d", minAdminTokenLen, len(token))
	}
	return token, nil
}

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func loadTLS(certFile, keyFile string) (*tls.Config, error) {
	if certFile == "" && keyFile == "" {
		return nil, nil
	}
	if certFile == "" || keyFile == "" {
		return nil, errors.New("-tls-cert and -tls-key go together")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS key pair: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}, nil
}

func newLogger(format string, level slog.Level, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
