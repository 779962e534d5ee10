package limits

import (
	"net"
	"sync"
	"sync/atomic"
)

// capListener closes a client address's connections past
// Limits.ConnsPerAddress as they are accepted, so that one client cannot
// take the process's file descriptors. Connections from trusted proxies,
// which carry many clients' calls, are not counted.
type capListener struct {
	net.Listener
	limits Limits
	// refused counts the connections closed at once.
	refused *atomic.Int64
	// logRefusal logs, sampled, that addr was refused.
	logRefusal func(addr string)

	mu   sync.Mutex
	open map[string]int
}

// CapConnections wraps a listener in the per-address connection cap.
func (c *Clients) CapConnections(l net.Listener) net.Listener {
	return &capListener{Listener: l, limits: c.limits, refused: &c.refused, open: map[string]int{}, logRefusal: c.logRefusal}
}

// Accept returns the next connection within its address's cap, closing
// those over it.
func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip, ok := parseHost(c.RemoteAddr().String())
		if !ok || l.limits.trusted(ip) {
			return c, nil
		}
		addr := addressKey(ip)
		l.mu.Lock()
		n := l.open[addr]
		if n < l.limits.ConnsPerAddress {
			l.open[addr] = n + 1
		}
		l.mu.Unlock()
		if n >= l.limits.ConnsPerAddress {
			c.Close()
			l.refused.Add(1)
			l.logRefusal(addr)
			continue
		}
		return &countedConn{Conn: c, release: func() { l.release(addr) }}, nil
	}
}

func (l *capListener) release(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[addr]--; l.open[addr] <= 0 {
		delete(l.open, addr)
	}
}

// countedConn gives its address's place back when closed, once.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
