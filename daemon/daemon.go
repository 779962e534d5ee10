// Package daemon runs energylabel as one process: the application service
// with its gRPC API on one port, and the web with the API's reads over
// Connect on the other, under one set of per-client limits, shutting both
// down gracefully.
package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"maps"
	"net"
	"net/http"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/energylabel/energylabel/grpcapi"
	"github.com/energylabel/energylabel/limits"
	"github.com/energylabel/energylabel/service"
	"github.com/energylabel/energylabel/web"
)

// Listeners are where the process serves.
type Listeners struct {
	GRPC net.Listener
	HTTP net.Listener
}

// ServeOptions tune Serve. The zero value serves plaintext.
type ServeOptions struct {
	// TLS, when set, serves both gRPC and HTTP over TLS.
	TLS *tls.Config
	// Limits bound what each client may cost; the zero value takes the
	// defaults.
	Limits limits.Limits
	// ShutdownTimeout bounds the graceful drain; 0 means 10s.
	ShutdownTimeout time.Duration
}

// Serve serves gRPC and HTTP until ctx is done or a listener fails, then
// shuts down gracefully: health goes NOT_SERVING, in-flight calls finish
// (GracefulStop, falling back to Stop after the timeout), and HTTP drains.
// The caller closes the store after Serve returns.
func Serve(ctx context.Context, s *service.Service, l Listeners, opt ServeOptions) error {
	var gopts []grpc.ServerOption
	if opt.TLS != nil {
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(opt.TLS)))
	}
	clients := limits.New(opt.Limits, s.Logger())
	api := grpcapi.New(s, clients)
	g, hs := api.NewGRPC(gopts...)
	h := web.New(s, clients, api.HTTPReads())
	rctx, stopReporting := context.WithCancel(ctx)
	defer stopReporting()
	go api.ReportReadiness(rctx, hs, slices.Collect(maps.Keys(g.GetServiceInfo())))
	hsrv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		TLSConfig:         opt.TLS,
	}
	errc := make(chan error, 2)
	l.GRPC, l.HTTP = clients.CapConnections(l.GRPC), clients.CapConnections(l.HTTP)
	go func() { errc <- g.Serve(l.GRPC) }()
	go func() {
		var err error
		if opt.TLS != nil {
			err = hsrv.ServeTLS(l.HTTP, "", "")
		} else {
			err = hsrv.Serve(l.HTTP)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		errc <- err
	}()
	s.Logger().Info("serving", "grpc", l.GRPC.Addr().String(), "http", l.HTTP.Addr().String(), "tls", opt.TLS != nil)

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	timeout := opt.ShutdownTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	s.Logger().Info("shutting down", "timeout", timeout)
	hs.Shutdown()
	h.Drain()
	stopped := make(chan struct{})
	go func() { g.GracefulStop(); close(stopped) }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-stopped:
	case <-timer.C:
		g.Stop()
		<-stopped
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if herr := hsrv.Shutdown(sctx); herr != nil && err == nil {
		err = herr
	}
	return err
}
