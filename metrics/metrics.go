// Package metrics is apppass's view from outside: Prometheus metrics for
// commands, clicks, Graph and Slack calls, jobs and the mail gateway, and
// the /healthz, /readyz and /metrics endpoints that serve them.
//
// Labels are closed vocabularies (a verb, an operation template, a status
// code, an outcome word): never a name, an email address, a URL, a token
// or a secret, so a scrape can be shown to anyone who can read dashboards.
package metrics

import (
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds apppass's collectors in a registry of its own, so tests
// and several Mains in one process never collide on the global one. A nil
// *Metrics records nothing, which keeps callers free of nil checks.
type Metrics struct {
	reg *prometheus.Registry

	commands      *prometheus.CounterVec
	calls         *prometheus.CounterVec
	callSeconds   *prometheus.HistogramVec
	throttleWaits *prometheus.CounterVec
	jobRuns       *prometheus.CounterVec
	jobSeconds    *prometheus.HistogramVec
}

// New returns Metrics registered with a fresh registry that also carries
// the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apppass_commands_total",
			Help: "Slash commands, clicks and form submissions handled, by verb and outcome (ok or an error kind).",
		}, []string{"verb", "outcome"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apppass_upstream_requests_total",
			Help: "HTTP requests to Slack and to Entra/Graph, by system, operation and status code (\"error\" when no response came).",
		}, []string{"system", "operation", "status"}),
		callSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "apppass_upstream_request_duration_seconds",
			Help:    "Latency of requests to Slack and to Entra/Graph, by system and operation.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"system", "operation"}),
		jobRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apppass_job_runs_total",
			Help: "Scheduled job runs by job and outcome.",
		}, []string{"job", "outcome"}),
		jobSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "apppass_job_duration_seconds",
			Help:    "Duration of scheduled job runs.",
			Buckets: []float64{.1, .5, 1, 5, 15, 60, 300, 900},
		}, []string{"job"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.commands, m.calls, m.callSeconds, m.jobRuns, m.jobSeconds,
	)
	return m
}

// Registry returns the registry the metrics are served from.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// CommandDone counts one command, click or submission. verb must come from
// apppass's own vocabulary (create, list, approve…), never from input.
func (m *Metrics) CommandDone(verb, outcome string) {
	if m == nil {
		return
	}
	m.commands.WithLabelValues(verb, outcome).Inc()
}

// UpstreamCall records one HTTP exchange with Slack or Entra/Graph; status
// 0 means no response arrived.
func (m *Metrics) UpstreamCall(system, operation string, status int, d time.Duration) {
	if m == nil {
		return
	}
	code := "error"
	if status > 0 {
		code = strconv.Itoa(status)
	}
	m.calls.WithLabelValues(system, operation, code).Inc()
	m.callSeconds.WithLabelValues(system, operation).Observe(d.Seconds())
}

// JobRun records one run of a scheduled job.
func (m *Metrics) JobRun(job, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.jobRuns.WithLabelValues(job, outcome).Inc()
	m.jobSeconds.WithLabelValues(job).Observe(d.Seconds())
}

// GaugeFunc registers a gauge read at scrape time, such as the number of
// pending revocation requests counted in the store.
func (m *Metrics) GaugeFunc(name, help string, f func() float64) {
	if m == nil {
		return
	}
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	// A Main run again in one process (tests) replaces its earlier gauge.
	if err := m.reg.Register(g); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			m.reg.Unregister(are.ExistingCollector)
			m.reg.MustRegister(g)
			return
		}
		panic(err)
	}
}
