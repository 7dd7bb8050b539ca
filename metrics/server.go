package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check reports whether one thing apppass depends on works now; a nil
// error means ready.
type Check func(ctx context.Context) error

// Server serves /healthz (the process lives), /readyz (every check
// passes) and /metrics.
type Server struct {
	m      *Metrics
	log    *slog.Logger
	mu     sync.Mutex
	checks map[string]Check
	// CheckTimeout bounds each readiness check.
	CheckTimeout time.Duration
}

// NewServer returns a Server for m with no readiness checks yet.
func NewServer(m *Metrics, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	return &Server{m: m, log: log, checks: map[string]Check{}, CheckTimeout: 5 * time.Second}
}

// AddCheck adds a readiness check under name ("database", "slack", "graph").
func (s *Server) AddCheck(name string, c Check) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks[name] = c
}

// Handler returns the endpoints' handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.m != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{}))
	}
	return mux
}

// readyz runs every check concurrently and answers 503 with the failing
// ones named. Check errors are logged but only their names are served, so
// an unauthenticated probe learns nothing about the tenant.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	names := make([]string, 0, len(s.checks))
	for n := range s.checks {
		names = append(names, n)
	}
	checks := make(map[string]Check, len(s.checks))
	for n, c := range s.checks {
		checks[n] = c
	}
	s.mu.Unlock()
	sort.Strings(names)

	ctx, cancel := context.WithTimeout(r.Context(), s.CheckTimeout)
	defer cancel()
	results := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = checks[n](ctx)
		}()
	}
	wg.Wait()

	body := map[string]string{}
	ok := true
	for i, n := range names {
		if results[i] != nil {
			ok = false
			body[n] = "failing"
			s.log.WarnContext(ctx, "readiness check failing", "check", n, "err", results[i])
			continue
		}
		body[n] = "ok"
	}
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	json.NewEncoder(w).Encode(body)
}

// ServeListener serves on ln until ctx ends.
func (s *Server) ServeListener(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve health and metrics: %w", err)
	}
	return nil
}
