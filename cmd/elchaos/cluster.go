package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// The cluster under test: three etcd members and three energylabeld
// replicas, each process in a network namespace of its own, joined by a
// veth pair to the client bridge in the root namespace, where elchaos
// runs. The members' Raft traffic goes over a second network: each member
// has a second veth pair, on the peer bridge. A partition takes a
// process's bridge ports down: its packets, in and out, are dropped (and,
// once ARP entries expire, connects to it fail with "no route to host");
// its peers see a silent network, not a closed socket. A peer partition
// takes only a member's peer port down: it loses its peers (so its
// quorum) but its clients still reach it, the gray failure that a client
// of etcd must route around.

// proc is one process of the cluster.
type proc struct {
	name    string // m1..m3, r1..r3
	ns      string // network namespace
	veth    string // host side of its veth pair, a client bridge port
	ip      string
	pveth   string // members: host side of the peer network's veth pair
	pip     string // members: address on the peer network
	bin     string
	args    []string
	env     []string
	logPath string

	mu          sync.Mutex
	cmd         *exec.Cmd
	done        chan struct{} // closed when the current incarnation exits
	incarnation int
	paused      bool
	partitioned bool
	startedAt   time.Time
}

// Incarnation is the number of times the process was started.
func (p *proc) Incarnation() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.incarnation
}

type cluster struct {
	dir     string
	runID   string
	subnet  string // three octets: the client network
	bridge  string
	psubnet string // the peer network
	pbridge string
	etcdBin string
	eldBin  string
	admin   string

	members  []*proc
	replicas []*proc
	logf     func(format string, args ...any)

	stateMu sync.Mutex
	state   *os.File // DIR/state: "pgid N", "netns NAME", "link NAME", for scripts/chaos.sh's trap

	memberIDs map[uint64]int // etcd member id -> index
	etcd      *clientv3.Client
	torn      bool
}

func newCluster(dir, etcdBin, eldBin string, logf func(string, ...any)) (*cluster, error) {
	b := make([]byte, 2)
	rand.Read(b)
	c := &cluster{dir: dir, runID: hex.EncodeToString(b), etcdBin: etcdBin, eldBin: eldBin, logf: logf}
	c.bridge = "elc" + c.runID + "br"
	c.pbridge = "elc" + c.runID + "pb"
	tok := make([]byte, 16)
	rand.Read(tok)
	c.admin = "chaos-admin-" + hex.EncodeToString(tok)
	subnet, err := freeSubnet()
	if err != nil {
		return nil, err
	}
	c.subnet = subnet
	for c.psubnet == "" || c.psubnet == c.subnet {
		if c.psubnet, err = freeSubnet(); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(filepath.Join(dir, "state"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	c.state = f
	for i := range 3 {
		m := c.newProc(fmt.Sprintf("m%d", i+1), 11+i)
		m.pveth, m.pip = m.veth+"q", fmt.Sprintf("%s.%d", c.psubnet, 11+i)
		c.members = append(c.members, m)
	}
	for i := range 3 {
		c.replicas = append(c.replicas, c.newProc(fmt.Sprintf("r%d", i+1), 21+i))
	}
	return c, nil
}

func (c *cluster) newProc(name string, host int) *proc {
	return &proc{name: name, ns: "elc-" + c.runID + "-" + name, veth: "elc" + c.runID + name,
		ip: fmt.Sprintf("%s.%d", c.subnet, host), logPath: filepath.Join(c.dir, "logs", name+".log")}
}

// freeSubnet picks a 10.x.y.0/24 no interface or route of this machine uses.
func freeSubnet() (string, error) {
	out, err := exec.Command("ip", "-4", "route", "show", "table", "all").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("ip route: %v: %s", err, out)
	}
	addrs, _ := exec.Command("ip", "-4", "addr").CombinedOutput()
	used := string(out) + string(addrs)
	for range 100 {
		b := make([]byte, 2)
		rand.Read(b)
		s := fmt.Sprintf("10.%d.%d", 200+int(b[0])%50, int(b[1])%250)
		if !strings.Contains(used, s+".") {
			return s, nil
		}
	}
	return "", errors.New("no free 10.x.y.0/24 subnet")
}

func (c *cluster) note(line string) {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	fmt.Fprintln(c.state, line)
	c.state.Sync()
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// network builds the bridges and every process's namespace.
func (c *cluster) network() error {
	for _, br := range []struct{ name, subnet string }{{c.bridge, c.subnet}, {c.pbridge, c.psubnet}} {
		c.note("link " + br.name)
		for _, s := range [][]string{
			{"link", "add", br.name, "type", "bridge"},
			{"addr", "add", br.subnet + ".1/24", "dev", br.name},
			{"link", "set", br.name, "up"},
		} {
			if err := ipCmd(s...); err != nil {
				return err
			}
		}
	}
	join := func(p *proc, veth, ip, bridge string) error {
		for _, s := range [][]string{
			{"link", "add", veth, "type", "veth", "peer", "name", veth + "p"},
			{"link", "set", veth + "p", "netns", p.ns},
			{"link", "set", veth, "master", bridge},
			{"link", "set", veth, "up"},
			{"-n", p.ns, "addr", "add", ip + "/24", "dev", veth + "p"},
			{"-n", p.ns, "link", "set", veth + "p", "up"},
		} {
			if err := ipCmd(s...); err != nil {
				return err
			}
		}
		return nil
	}
	for _, p := range append(slicesClone(c.members), c.replicas...) {
		c.note("netns " + p.ns)
		if err := ipCmd("netns", "add", p.ns); err != nil {
			return err
		}
		if err := ipCmd("-n", p.ns, "link", "set", "lo", "up"); err != nil {
			return err
		}
		if err := join(p, p.veth, p.ip, c.bridge); err != nil {
			return err
		}
		if p.pveth != "" {
			if err := join(p, p.pveth, p.pip, c.pbridge); err != nil {
				return err
			}
		}
	}
	return nil
}

func slicesClone(ps []*proc) []*proc { return append([]*proc(nil), ps...) }

// teardown kills every process and removes the namespaces and the bridge.
func (c *cluster) teardown() {
	if c.torn {
		return
	}
	c.torn = true
	var wg sync.WaitGroup
	for _, p := range append(slicesClone(c.replicas), c.members...) {
		wg.Add(1)
		go func() { defer wg.Done(); c.stop(p, 3*time.Second) }()
	}
	wg.Wait()
	if c.etcd != nil {
		c.etcd.Close()
	}
	for _, p := range append(slicesClone(c.members), c.replicas...) {
		exec.Command("ip", "netns", "del", p.ns).Run()
		exec.Command("ip", "link", "del", p.veth).Run()
		if p.pveth != "" {
			exec.Command("ip", "link", "del", p.pveth).Run()
		}
	}
	exec.Command("ip", "link", "del", c.bridge).Run()
	exec.Command("ip", "link", "del", c.pbridge).Run()
	c.note("clean")
	c.state.Close()
}

func (c *cluster) endpoints() []string {
	var eps []string
	for _, m := range c.members {
		eps = append(eps, m.ip+":2379")
	}
	return eps
}

func (c *cluster) configure() {
	var initial []string
	for _, m := range c.members {
		initial = append(initial, fmt.Sprintf("%s=http://%s:2380", m.name, m.pip))
	}
	for _, m := range c.members {
		m.bin = c.etcdBin
		m.args = []string{"--name", m.name, "--data-dir", filepath.Join(c.dir, "data", m.name),
			"--listen-client-urls", "http://" + m.ip + ":2379", "--advertise-client-urls", "http://" + m.ip + ":2379",
			"--listen-peer-urls", "http://" + m.pip + ":2380", "--initial-advertise-peer-urls", "http://" + m.pip + ":2380",
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-token", "elchaos-" + c.runID,
			"--initial-cluster-state", "new", "--logger", "zap", "--log-outputs", "stderr"}
	}
	for _, r := range c.replicas {
		r.bin = c.eldBin
		r.env = append(os.Environ(), "ENERGYLABEL_ADMIN_TOKEN="+c.admin)
		r.args = []string{"-etcd", strings.Join(c.endpoints(), ","), "-grpc", r.ip + ":50051", "-http", r.ip + ":8080",
			// The operator's settings for a load test: no per-token or
			// per-address limits between the clients and the replicas.
			"-submit-rate", "0", "-quota-results", "0", "-quota-bytes", "0", "-read-rate", "-1",
			"-conns-per-address", "10000", "-watches-per-address", "1000", "-log-level", "warn"}
	}
}

func (r *proc) grpcAddr() string { return r.ip + ":50051" }
func (r *proc) httpAddr() string { return r.ip + ":8080" }

// start starts a process's next incarnation in its namespace, in a
// process group of its own.
func (c *cluster) start(p *proc) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("%s is running", p.name)
	}
	log, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	p.incarnation++
	fmt.Fprintf(log, "=== elchaos: incarnation %d at %s\n", p.incarnation, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command("ip", append([]string{"netns", "exec", p.ns, p.bin}, p.args...)...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		return err
	}
	c.note(fmt.Sprintf("pgid %d %s", cmd.Process.Pid, p.name))
	p.cmd, p.done, p.paused, p.startedAt = cmd, make(chan struct{}), false, time.Now()
	done := p.done
	go func() {
		cmd.Wait()
		log.Close()
		p.mu.Lock()
		if p.cmd == cmd {
			p.cmd = nil
		}
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// signal sends sig to the process's group.
func (p *proc) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return fmt.Errorf("%s is not running", p.name)
	}
	switch sig {
	case syscall.SIGSTOP:
		p.paused = true
	case syscall.SIGCONT:
		p.paused = false
	}
	return syscall.Kill(-p.cmd.Process.Pid, sig)
}

// kill sends SIGKILL and waits for the process to be gone.
func (c *cluster) kill(p *proc) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
}

// stop ends a process gracefully (SIGCONT, SIGTERM), then with SIGKILL
// after grace.
func (c *cluster) stop(p *proc, grace time.Duration) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGCONT)
	syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// partition cuts a process off the network (cut) or joins it again; with
// peersOnly, only a member's peer network.
func (c *cluster) partition(p *proc, cut, peersOnly bool) error {
	state := "up"
	if cut {
		state = "down"
	}
	links := []string{p.pveth}
	if !peersOnly {
		links = append(links, p.veth)
	}
	for _, l := range links {
		if l == "" {
			continue
		}
		if err := ipCmd("link", "set", l, state); err != nil {
			return err
		}
	}
	p.mu.Lock()
	p.partitioned = cut
	p.mu.Unlock()
	return nil
}

// startEtcd starts the members and waits for a healthy cluster.
func (c *cluster) startEtcd(ctx context.Context) error {
	for _, m := range c.members {
		if err := c.start(m); err != nil {
			return err
		}
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	c.etcd = cli
	c.memberIDs = map[uint64]int{}
	deadline := time.Now().Add(30 * time.Second)
	for i, ep := range c.endpoints() {
		for {
			sctx, cancel := context.WithTimeout(ctx, time.Second)
			st, err := cli.Status(sctx, ep)
			cancel()
			if err == nil && st.Leader != 0 {
				c.memberIDs[st.Header.MemberId] = i
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("etcd member %s not ready after 30s (%v); its log: %s", c.members[i].name, err, c.members[i].logPath)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

// leader returns the index of the member that leads, asking every
// reachable member; -1 when none knows one.
func (c *cluster) leader(ctx context.Context) int {
	for _, ep := range c.endpoints() {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := c.etcd.Status(sctx, ep)
		cancel()
		if err == nil && st.Leader != 0 {
			if i, ok := c.memberIDs[st.Leader]; ok {
				return i
			}
		}
	}
	return -1
}

// waitLeader waits until some member leads, and returns it.
func (c *cluster) waitLeader(ctx context.Context, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		if l := c.leader(ctx); l >= 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return l
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// headRevision is etcd's current revision (a linearizable read).
func (c *cluster) headRevision(ctx context.Context) (int64, error) {
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	resp, err := c.etcd.Get(rctx, "/energylabel/meta/version")
	if err != nil {
		return 0, err
	}
	return resp.Header.Revision, nil
}

// compact compacts etcd's history up to its current revision.
func (c *cluster) compact(ctx context.Context) (int64, error) {
	rev, err := c.headRevision(ctx)
	if err != nil {
		return 0, err
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err = c.etcd.Compact(cctx, rev, clientv3.WithCompactPhysical())
	return rev, err
}

// startReplica starts a replica and waits until /healthz answers 200.
func (c *cluster) startReplica(ctx context.Context, r *proc, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	if err := c.start(r); err != nil {
		return 0, err
	}
	if err := waitHealthy(ctx, r, timeout); err != nil {
		return time.Since(start), fmt.Errorf("%s: %w; its log: %s", r.name, err, r.logPath)
	}
	return time.Since(start), nil
}

var healthClient = &http.Client{Timeout: time.Second}

func healthz(ctx context.Context, r *proc) int {
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+r.httpAddr()+"/healthz", nil)
	resp, err := healthClient.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func waitHealthy(ctx context.Context, r *proc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for healthz(ctx, r) != http.StatusOK {
		if time.Now().After(deadline) {
			return fmt.Errorf("not healthy after %s", timeout)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}
