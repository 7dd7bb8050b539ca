// Package testkit is what apppass's tests share: an in-memory Entra that
// implements the interfaces handlers and jobs declare (Entra, Directory,
// Scanner), a settable clock, a recorder of the waits an adapter asks
// for, a throw-away store or PostgreSQL schema, the handlers' policy with
// apppass's defaults, self-signed certificates and an SMTP client's mail
// transaction. It is imported by tests only.
package testkit

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/config"
	"github.com/apppass/apppass/handlers"
	"github.com/apppass/apppass/internal/wiring"
	"github.com/apppass/apppass/jobs"
	"github.com/apppass/apppass/store"
)

// Clock is a settable time, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// WallClock is the wall clock moved forward by Add, for tests that run
// real clients (token lifetimes, TLS) but need records to age.
type WallClock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now returns the wall clock's time plus what was added.
func (c *WallClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Add moves the clock forward by d.
func (c *WallClock) Add(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// Sleeps records the waits an adapter asks for, without waiting. Its
// Sleep replaces domain.Sleep.
type Sleeps struct {
	mu    sync.Mutex
	waits []time.Duration
}

// Sleep records d and returns at once.
func (s *Sleeps) Sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return nil
}

// All returns the waits asked for so far.
func (s *Sleeps) All() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.waits)
}

// OpenStore opens a fresh SQLite store in tb's temporary directory, at
// now (nil: time.Now), closed when the test ends.
func OpenStore(tb testing.TB, now func() time.Time) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "apppass.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if now != nil {
		db.Now = now
	}
	return db
}

// Groups of the handlers' policy in tests.
const (
	AdminGroup    = "group-admin"
	HelpdeskGroup = "group-helpdesk"
)

// HandlersConfig is the handlers' policy with apppass's defaults
// (config.Default), the groups above, at now, mapped as apppass maps it.
func HandlersConfig(now func() time.Time) handlers.Config {
	c := config.Default()
	c.AdminGroup, c.HelpdeskGroup = AdminGroup, HelpdeskGroup
	return wiring.Handlers(c, "", now)
}

// JobsConfig is the jobs' settings with apppass's defaults
// (config.Default), in UTC, as instance "test", without a report channel.
func JobsConfig() jobs.Config {
	c := config.Default()
	c.TimeZone = "UTC"
	c.ReportChannel = ""
	return wiring.Jobs(c, "test")
}
