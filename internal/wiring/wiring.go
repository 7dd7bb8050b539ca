// Package wiring maps apppass's configuration onto the settings each
// package takes. It is the one place that does: package app wires the
// running process with it, and the tests build their handlers and jobs
// with it, so a setting added to config reaches both or neither.
package wiring

import (
	"maps"
	"time"

	"github.com/apppass/apppass/config"
	"github.com/apppass/apppass/handlers"
	"github.com/apppass/apppass/jobs"
)

// Limits are the per-person limits.
func Limits(cfg config.Config) handlers.Limits {
	return handlers.Limits{MaxPerUser: cfg.MaxPerUser, WarnAt: cfg.WarnAt}
}

// Handlers is the handlers' policy for a process named instance, at now.
func Handlers(cfg config.Config, instance string, now func() time.Time) handlers.Config {
	return handlers.Config{
		Limits:     Limits(cfg),
		AdminGroup: cfg.AdminGroup, HelpdeskGroup: cfg.HelpdeskGroup, CreatorsGroup: cfg.CreatorsGroup, RequestTTL: cfg.RequestTTL,
		PasswordLifetime: cfg.PasswordLifetime, LagWindow: cfg.LagWindow, ReconcileAfter: cfg.ReconcileAfter,
		GiveUpAfter: cfg.GiveUpAfter, ResumeAfter: cfg.ResumeAfter(), Instance: instance, Now: now,
	}
}

// Jobs is the job runner's settings for a process named instance.
func Jobs(cfg config.Config, instance string) jobs.Config {
	return jobs.Config{
		Limits:         Limits(cfg),
		NotifyCooldown: cfg.NotifyCooldown, StaleAfter: cfg.StaleAfter, UnusedAfter: cfg.UnusedAfter,
		ExpiryWarning: cfg.ExpiryWarning, Location: cfg.Location(), Schedules: maps.Clone(cfg.Schedules),
		BackgroundInterval: cfg.BackgroundInterval, ReportChannel: cfg.ReportChannel,
		Instance: instance, OffboardingAction: cfg.OffboardingAction, AuditRetention: cfg.AuditRetention,
		GatewayLastUse: cfg.SMTP.Enabled(),
	}
}
