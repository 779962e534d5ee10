// Command energylabeld serves energy ratings of AI models over gRPC and
// HTTP, from an embedded bbolt database, or as one of any number of
// stateless replicas on an etcd cluster; and moves a bbolt data directory
// into etcd.
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
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/energylabel/energylabel/daemon"
	"github.com/energylabel/energylabel/limits"
	"github.com/energylabel/energylabel/rating/calibration"
	"github.com/energylabel/energylabel/rating/formats/aienergyscore"
	"github.com/energylabel/energylabel/service"
	"github.com/energylabel/energylabel/storage"
	"github.com/energylabel/energylabel/storage/boltdb"
	etcdstore "github.com/energylabel/energylabel/storage/etcdstore"
	"github.com/energylabel/energylabel/storage/move"
)

// minAdminTokenLen keeps guessable admin tokens out.
const minAdminTokenLen = 32

type config struct {
	dataDir        string
	grpcAddr       string
	httpAddr       string
	adminTokenFile string
	demo           bool
	demoTokenFile  string
	tlsCert        string
	tlsKey         string
	maxDBSize      int
	eventRetention int
	logFormat      string
	logLevel       slog.Level
	baseURL        string
	submitLimit    limits.RateLimit
	limits         limits.Limits
	quotas         service.Quotas
	check          bool
	init           bool
	etcd           string
	etcdPrefix     string
	etcdCA         string
	etcdCert       string
	etcdKey        string
	etcdTimeouts   etcdTimeouts
	importFrom     string
	staleAfter     time.Duration
}

// etcdTimeouts are the etcd backend's timeouts, as flags give them; 0 takes
// the backend's default.
type etcdTimeouts struct {
	request, attempt, watch time.Duration
}

// The etcd backend's defaults (storage/etcdstore Options), which -h shows.
const (
	defaultEtcdRequestTimeout = 5 * time.Second
	defaultEtcdWatchTimeout   = 3 * storage.ProgressInterval
)

const usage = `usage: energylabeld [flags]

Serves energy ratings over gRPC and HTTP: from bbolt in -data on one
machine, or, with -etcd, as a stateless replica on an etcd cluster (run as
many as you need behind a balancer; see README, Running a cluster).

  energylabeld -data DIR                          one machine, embedded bbolt (the default)
  energylabeld -etcd HOST:PORT,...                a replica on etcd
  energylabeld -etcd HOST:PORT,... -import-from DIR
                                                  move a bbolt data directory into an empty
                                                  etcd prefix, check the copy, and exit

  energylabeld -demo                              a temporary data directory with the AIES
                                                  2025-02 leaderboard imported; prints a
                                                  one-run admin token alone on stdout

Environment:
  ENERGYLABEL_ADMIN_TOKEN    the admin token, at least 32 characters, unless
                             -admin-token-file names a file holding it; with
                             neither, the admin API is closed (-demo makes a
                             one-run token instead)
  ENERGYLABEL_ETCD_USER, ENERGYLABEL_ETCD_PASSWORD
                             etcd's user, when its auth is on

Flags:
`

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
	fs.BoolVar(&c.demo, "demo", false, "serve a temporary data directory with the AIES 2025-02 leaderboard imported; without ENERGYLABEL_ADMIN_TOKEN or -admin-token-file, make a one-run admin token and print it alone on stdout once serving")
	fs.StringVar(&c.demoTokenFile, "demo-token-file", "", "with -demo: write the one-run admin token to this file (mode 0600) instead of stdout")
	fs.BoolVar(&c.check, "check", false, "check the data directory's database (bbolt's tx.Check and the store's own reading), report, and exit: 0 when sound")
	fs.BoolVar(&c.init, "init", false, "start an empty database on an empty (0-byte) "+boltdb.FileName+", which is otherwise refused")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "TLS certificate file (PEM); serves gRPC and HTTP over TLS")
	fs.StringVar(&c.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fs.IntVar(&c.maxDBSize, "max-db-size", 0, "maximum database size in bytes; writes beyond it are refused (0: no limit)")
	fs.IntVar(&c.eventRetention, "event-retention", boltdb.DefaultEventRetention, "newest revisions whose change events bbolt keeps for watches to resume from; older ones are deleted as writes go, and a watch from before them is out of range (-1: keep all)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "least severe log level: debug, info (one line per call), warn or error")
	fs.Float64Var(&c.submitLimit.Rate, "submit-rate", 5, "submissions per second allowed to each publisher token (0: no limit; the admin token is exempt)")
	fs.IntVar(&c.submitLimit.Burst, "submit-burst", 50, "burst of submissions allowed to each publisher token")
	fs.StringVar(&c.baseURL, "base-url", "", "public HTTP URL that labels link to (default http://<-http address>)")
	fs.DurationVar(&c.limits.StreamTimeout, "stream-timeout", limits.DefaultStreamTimeout, "longest a gRPC stream (backup, import) may run")
	fs.DurationVar(&c.limits.StreamIdle, "stream-idle", limits.DefaultStreamIdle, "end a gRPC stream whose client reads or sends nothing for this long")
	fs.Func("max-streams", fmt.Sprintf("concurrent gRPC calls per connection (default %d)", limits.DefaultMaxStreams), func(v string) error {
		n, err := strconv.ParseUint(v, 10, 32)
		c.limits.MaxStreams = uint32(n)
		return err
	})
	fs.DurationVar(&c.limits.ConnIdle, "conn-idle", limits.DefaultConnIdle, "close a gRPC connection without calls for this long")
	fs.IntVar(&c.limits.MaxWatches, "max-watches", limits.DefaultMaxWatches, "WatchRatings streams served at once, over gRPC and HTTP")
	fs.IntVar(&c.limits.WatchesPerAddress, "watches-per-address", limits.DefaultWatchesPerAddress, "WatchRatings streams one client address may hold at once")
	fs.DurationVar(&c.limits.WatchMaxAge, "watch-max-age", limits.DefaultWatchMaxAge, "end a WatchRatings stream after this long, idle or not; clients resume from their last revision")
	fs.IntVar(&c.limits.ConnsPerAddress, "conns-per-address", limits.DefaultConnsPerAddress, "open connections one client address may hold on each port; more are closed as they come (trusted proxies are exempt)")
	fs.Float64Var(&c.limits.ReadBudget.Rate, "read-rate", limits.DefaultReadBudget.Rate, "costly reads per second allowed to each client address: history, search and task pages, replaying watches, PNG labels and history charts not cached (-1: no limit)")
	fs.IntVar(&c.limits.ReadBudget.Burst, "read-burst", limits.DefaultReadBudget.Burst, "burst of costly reads allowed to each client address")
	c.quotas = service.Quotas{Default: service.DefaultQuota, By: map[string]service.Quota{}}
	fs.IntVar(&c.quotas.Default.ResultsPerDay, "quota-results", service.DefaultQuota.ResultsPerDay, "results each namespace's publishers may store a UTC day (0: no limit; the admin token is exempt)")
	fs.Func("quota-bytes", fmt.Sprintf("bytes each namespace's publishers may store a UTC day, as 128MB (default %dMB; 0: no limit)", service.DefaultQuota.BytesPerDay>>20), func(v string) error {
		var err error
		c.quotas.Default.BytesPerDay, err = service.ParseBytes(v)
		return err
	})
	fs.Func("quota", "NAMESPACE=RESULTS/BYTES: another quota for one namespace, as acme=50000/1GB (repeatable)", func(v string) error {
		ns, q, err := service.ParseQuota(v)
		c.quotas.By[ns] = q
		return err
	})
	fs.Func("trusted-proxy", "comma-separated CIDRs or addresses of reverse proxies whose X-Forwarded-For names the client (default: none, the header is ignored)", func(v string) error {
		p, err := limits.ParseTrustedProxies(v)
		c.limits.TrustedProxies = append(c.limits.TrustedProxies, p...)
		return err
	})
	fs.StringVar(&c.etcd, "etcd", "", "run as a stateless replica on the etcd cluster at these client endpoints (host:port or URL, comma-separated) instead of bbolt in -data")
	fs.StringVar(&c.etcdPrefix, "etcd-prefix", etcdstore.DefaultPrefix, "with -etcd: the key prefix of this registry; every replica of it uses the same")
	fs.StringVar(&c.etcdCA, "etcd-ca", "", "with -etcd: CA certificate file (PEM) that verifies etcd's servers; any -etcd-* file turns TLS on")
	fs.StringVar(&c.etcdCert, "etcd-cert", "", "with -etcd: client certificate file (PEM), for etcd's --client-cert-auth")
	fs.StringVar(&c.etcdKey, "etcd-key", "", "with -etcd: the client certificate's private key file (PEM)")
	fs.DurationVar(&c.etcdTimeouts.request, "etcd-request-timeout", defaultEtcdRequestTimeout, "with -etcd: longest a request to etcd may take, however many attempts; a write still unanswered then (no quorum) fails Unavailable")
	fs.DurationVar(&c.etcdTimeouts.attempt, "etcd-attempt-timeout", 0, "with -etcd: longest one attempt of a request may wait on one member before it is tried on another (default a quarter of -etcd-request-timeout, at most 1s)")
	fs.DurationVar(&c.etcdTimeouts.watch, "etcd-watch-timeout", defaultEtcdWatchTimeout, "with -etcd: how long the watch may hear nothing from its member, neither an event nor a progress notice, before it resumes on another")
	fs.StringVar(&c.importFrom, "import-from", "", "with -etcd: copy the bbolt data directory DIR (stopped) into the empty -etcd-prefix, compare counts and checksums, print them, and exit")
	fs.DurationVar(&c.staleAfter, "stale-after", service.DefaultStaleAfter, "report NOT_SERVING (gRPC health; /healthz 503) while the storage has not confirmed this server's index current for this long (an etcd without quorum)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
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
	if err := checkStorageFlags(fs, c); err != nil {
		fmt.Fprintf(stderr, "energylabeld: %s\n", err)
		return 2
	}
	var err error
	switch {
	case c.check:
		err = check(c.dataDir, stdout)
	case c.importFrom != "":
		err = importFrom(ctx, c, stdout)
	default:
		err = serve(ctx, c, stdout, stderr)
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
	fmt.Fprintf(stdout, "change log: %d events in %d bytes, from revision %d on\n", rep.Events.Events, rep.Events.Bytes, rep.Events.From)
	for _, p := range rep.Problems {
		fmt.Fprintf(stdout, "problem: %s\n", p)
	}
	if rep.ProblemCount > 0 {
		return fmt.Errorf("check %s: %w: %d problems, the first: %s", rep.Path, boltdb.ErrDamaged, rep.ProblemCount, rep.Problems[0])
	}
	fmt.Fprintln(stdout, "ok: tx.Check found no problem")
	return nil
}

func serve(ctx context.Context, c config, stdout, stderr io.Writer) error {
	log := newLogger(c.logFormat, c.logLevel, stderr)
	admin, err := adminToken(c)
	if err != nil {
		return err
	}
	if c.demo && admin != "" && c.demoTokenFile != "" {
		return errors.New("-demo-token-file: the admin token is given (ENERGYLABEL_ADMIN_TOKEN or -admin-token-file), so -demo makes none")
	}
	tlsConfig, err := loadTLS(c.tlsCert, c.tlsKey)
	if err != nil {
		return err
	}
	// The ports first: a server that cannot listen says so at once, before
	// it opens, imports or builds anything.
	l, err := listen(c)
	if err != nil {
		return err
	}
	defer l.GRPC.Close() // Serve has closed them by then; closing again does nothing
	defer l.HTTP.Close()
	var demoToken string
	if c.demo {
		dir, err := os.MkdirTemp("", "energylabel-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		c.dataDir = dir
		if admin == "" {
			admin = randomToken()
			demoToken = admin
		}
	}
	st, err := openBackend(ctx, c)
	if err != nil {
		return err
	}
	defer func() {
		// bbolt writes its pending latest/ entries here, so that the next
		// start reads them from latest/.
		if err := st.Close(); err != nil {
			log.Error("closing the store", "err", err)
		}
	}()
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
	srv, err := service.New(service.Config{
		Backend: st, Schemes: schemes, AdminToken: admin, Logger: log, BaseURL: baseURL,
		SubmitLimit: c.submitLimit, StaleAfter: c.staleAfter, Quotas: &c.quotas,
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
	if demoToken != "" {
		if err := giveDemoToken(demoToken, c.demoTokenFile, stdout); err != nil {
			return err
		}
		where := "printed on stdout"
		if c.demoTokenFile != "" {
			where = "written to " + c.demoTokenFile
		}
		log.Info("demo admin token "+where+"; it is valid for this run only", "grpc", c.grpcAddr, "http", c.httpAddr)
	}
	return daemon.Serve(ctx, srv, l, daemon.ServeOptions{TLS: tlsConfig, Limits: c.limits})
}

// listen opens the gRPC and HTTP ports.
func listen(c config) (daemon.Listeners, error) {
	var l daemon.Listeners
	var err error
	if l.GRPC, err = net.Listen("tcp", c.grpcAddr); err != nil {
		return l, fmt.Errorf("-grpc: %w", err)
	}
	if l.HTTP, err = net.Listen("tcp", c.httpAddr); err != nil {
		l.GRPC.Close()
		return l, fmt.Errorf("-http: %w", err)
	}
	return l, nil
}

// giveDemoToken hands over the admin token -demo made: alone on a line of
// stdout, or into file, readable by its owner only, whole or not at all.
func giveDemoToken(token, file string, stdout io.Writer) error {
	if file == "" {
		_, err := fmt.Fprintln(stdout, token)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return fmt.Errorf("-demo-token-file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(token + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("-demo-token-file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("-demo-token-file: %w", err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("-demo-token-file: %w", err)
	}
	return nil
}

// checkStorageFlags refuses flags that mean nothing with the storage the
// others choose.
func checkStorageFlags(fs *flag.FlagSet, c config) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["demo-token-file"] && !c.demo {
		return errors.New("-demo-token-file needs -demo")
	}
	if c.etcd == "" {
		for _, name := range []string{"etcd-prefix", "etcd-ca", "etcd-cert", "etcd-key", "etcd-request-timeout", "etcd-attempt-timeout", "etcd-watch-timeout", "import-from"} {
			if set[name] {
				return fmt.Errorf("-%s needs -etcd", name)
			}
		}
		return nil
	}
	t := c.etcdTimeouts
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"etcd-request-timeout", t.request}, {"etcd-attempt-timeout", t.attempt}, {"etcd-watch-timeout", t.watch}} {
		if d.v < 0 || d.v == 0 && set[d.name] {
			return fmt.Errorf("-%s %s: want a positive duration", d.name, d.v)
		}
	}
	if t.attempt > t.request {
		return fmt.Errorf("-etcd-attempt-timeout %s is longer than -etcd-request-timeout %s, which bounds every attempt", t.attempt, t.request)
	}
	for _, name := range []string{"data", "demo", "check", "init", "max-db-size", "event-retention"} {
		if set[name] {
			return fmt.Errorf("-%s is for bbolt, and -etcd runs on etcd (its space is etcd's --quota-backend-bytes)", name)
		}
	}
	return nil
}

// openBackend opens bbolt in the data directory, or etcd with -etcd.
func openBackend(ctx context.Context, c config) (storage.Backend, error) {
	if c.etcd == "" {
		return boltdb.Open(c.dataDir, boltdb.Options{MaxSize: c.maxDBSize, Init: c.init, EventRetention: c.eventRetention})
	}
	return etcdstore.Open(ctx, etcdOptions(c))
}

func etcdOptions(c config) etcdstore.Options {
	var eps []string
	for ep := range strings.SplitSeq(c.etcd, ",") {
		if ep = strings.TrimSpace(ep); ep != "" {
			eps = append(eps, ep)
		}
	}
	return etcdstore.Options{
		Endpoints: eps, Prefix: c.etcdPrefix, CAFile: c.etcdCA, CertFile: c.etcdCert, KeyFile: c.etcdKey,
		Username: os.Getenv("ENERGYLABEL_ETCD_USER"), Password: os.Getenv("ENERGYLABEL_ETCD_PASSWORD"),
		RequestTimeout: c.etcdTimeouts.request, AttemptTimeout: c.etcdTimeouts.attempt, WatchTimeout: c.etcdTimeouts.watch,
	}
}

// importFrom moves a bbolt data directory into an empty etcd prefix, then
// reads both back and prints how they compare.
func importFrom(ctx context.Context, c config, stdout io.Writer) error {
	path := filepath.Join(c.importFrom, boltdb.FileName)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("-import-from: %w", err)
	}
	from, err := boltdb.Open(c.importFrom, boltdb.Options{})
	if err != nil {
		return err
	}
	defer from.Close()
	opt := etcdOptions(c)
	to, err := etcdstore.Open(ctx, opt)
	if err != nil {
		return err
	}
	defer to.Close()
	schemes, err := calibration.Schemes()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "moving %s into etcd %s, prefix %s\n", path, strings.Join(opt.Endpoints, ","), to.Prefix())
	start, copied := time.Now(), 0
	err = move.Copy(ctx, from, to, func(n int) {
		if n/100000 > copied/100000 {
			fmt.Fprintf(stdout, "copied %d results\n", n)
		}
		copied = n
	})
	if errors.Is(err, move.ErrNotEmpty) {
		return fmt.Errorf("etcd prefix %s is not empty: a move fills an empty prefix; choose another -etcd-prefix, or delete this one (etcdctl del --prefix %s) if nothing in it is needed", to.Prefix(), to.Prefix())
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "copied %d results, with the tokens, registries and releases, in %s; reading both back\n", copied, time.Since(start).Round(time.Millisecond))
	scheme := schemes[len(schemes)-1]
	sf, err := move.Summarize(ctx, from, scheme)
	if err != nil {
		return fmt.Errorf("reading %s back: %w", path, err)
	}
	st, err := move.Summarize(ctx, to, scheme)
	if err != nil {
		return fmt.Errorf("reading etcd back: %w", err)
	}
	return move.Report(stdout, sf, st)
}

// demoRelease is the star release -demo freezes after importing the
// bundled leaderboard, named after it.
const demoRelease = "aies-2025-02"

// importBundled imports the AIES leaderboard that ships in the binary, as
// the published figures they are.
func importBundled(ctx context.Context, srv *service.Service) (int, error) {
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
