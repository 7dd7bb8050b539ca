// Package handlers is what apppass does for each command and button: it
// decides who may act, keeps the per-person limit, creates, lists and
// deletes app passwords, and keeps the audit trail.
//
// It knows neither Slack nor Graph. It declares the small interfaces it
// needs (Directory, Entra, Store); graphclient and store satisfy them, and
// bot turns Slack payloads into calls here and results into Block Kit.
package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/apppass/apppass/domain"
)

// Directory finds employees in Entra.
type Directory interface {
	// FindUser returns the user whose UPN or mail is email; a KindNotFound
	// error when there is none.
	FindUser(ctx context.Context, email string) (domain.User, error)
	// MemberGroups returns which of groupIDs userID belongs to,
	// transitively, as Entra answers now.
	MemberGroups(ctx context.Context, userID string, groupIDs []string) ([]string, error)
}

// Entra manages employees' applications and their password credentials.
type Entra interface {
	FindApplication(ctx context.Context, ownerID string) (domain.Application, bool, error)
	FreshApplication(ctx context.Context, ownerID string) (domain.Application, bool, error)
	CreateApplication(ctx context.Context, owner domain.User) (domain.Application, error)
	AddPassword(ctx context.Context, app domain.Application, name string, expires time.Time) (domain.Password, domain.Secret, error)
	// RemovePassword returns a KindNotFound error when keyID is gone.
	RemovePassword(ctx context.Context, app domain.Application, keyID string) error
	// LastUsed returns the last sign-in per key id (lower case) of the
	// application with client id appID; empty where unknown.
	LastUsed(ctx context.Context, appID string) (map[string]time.Time, error)
	TenantID() string
}

// Store is apppass's persistent state.
type Store interface {
	SaveUser(ctx context.Context, slackID string, u domain.User) error
	SaveApplication(ctx context.Context, app domain.Application) error
	// Application returns a KindNotFound error when none is recorded.
	Application(ctx context.Context, ownerID string) (domain.Application, error)
	BeginCredential(ctx context.Context, ownerID, appObjectID, name string, knownKeys []string) (int64, error)
	CredentialIssued(ctx context.Context, id int64, p domain.Password, state domain.CredentialState) error
	SetCredentialState(ctx context.Context, id int64, state domain.CredentialState) error
	CredentialRemoved(ctx context.Context, ownerID, appObjectID string, p domain.Password) error
	RecentCredentials(ctx context.Context, ownerID string, since time.Time) ([]domain.CredentialRecord, error)
	UnsettledCredentials(ctx context.Context, olderThan time.Time) ([]domain.CredentialRecord, error)
	Audit(ctx context.Context, e domain.AuditEvent) error
	AuditFor(ctx context.Context, subjectID string, limit int) ([]domain.AuditEvent, error)

	CreateRevocation(ctx context.Context, r *domain.RevocationRequest) error
	// Revocation returns a KindNotFound error when there is none.
	Revocation(ctx context.Context, id int64) (domain.RevocationRequest, error)
	Revocations(ctx context.Context, statuses ...domain.RevocationStatus) ([]domain.RevocationRequest, error)
	// ClaimRevocation is a compare-and-set: it reports whether this caller
	// moved the request out of a decidable status.
	ClaimRevocation(ctx context.Context, id int64, to domain.RevocationStatus, deciderSlack, deciderID, denyReason string, from ...domain.RevocationStatus) (bool, error)
	SetRevocationStatus(ctx context.Context, id int64, status domain.RevocationStatus) error
	SetRevocationOutcome(ctx context.Context, id int64, keyID, outcome string) error
	SetRevocationMessage(ctx context.Context, id int64, channel, ts string) error
	ExpireRevocations(ctx context.Context, now time.Time) ([]domain.RevocationRequest, error)
}

// Alerter tells the helpdesk about trouble no single person can fix, such
// as Entra's directory object quota.
type Alerter interface {
	AlertHelpdesk(ctx context.Context, text string) error
}

// Deliver shows a newly created password to the person who asked for it,
// once, ephemerally. An error means they did not get it.
type Deliver func(ctx context.Context, c domain.Created) error

// Service carries out apppass's commands.
type Service struct {
	dir     Directory
	entra   Entra
	store   Store
	alerter Alerter
	cfg     Config
	log     *slog.Logger
	locks   keyedMutex
}

// Config holds the policy Service enforces.
type Config struct {
	MaxPerUser       int
	AdminGroup       string // Entra group whose members may request revocations
	HelpdeskGroup    string // Entra group whose members decide them and may show
	RequestTTL       time.Duration
	PasswordLifetime time.Duration // zero: Entra's default
	// LagWindow is how long apppass trusts its own record of a credential
	// it created or removed over Graph's listing, which can lag.
	LagWindow time.Duration
	// SettleAfter is how old an unsettled credential record must be
	// before the reconciler takes it over from the request that began it.
	SettleAfter time.Duration
	// GiveUpAfter is how long the reconciler looks for a credential that
	// an ambiguous addPassword may have created.
	GiveUpAfter time.Duration
	Now         func() time.Time
}

// maxAuditText bounds user-supplied text kept in the audit trail or quoted
// back.
const maxAuditText = 100

// New returns a Service. alerter may be nil.
func New(dir Directory, entra Entra, store Store, alerter Alerter, cfg Config, log *slog.Logger) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxPerUser == 0 {
		cfg.MaxPerUser = 40
	}
	if cfg.RequestTTL == 0 {
		cfg.RequestTTL = 72 * time.Hour
	}
	if cfg.LagWindow == 0 {
		cfg.LagWindow = 15 * time.Minute
	}
	if cfg.SettleAfter == 0 {
		cfg.SettleAfter = 2 * time.Minute
	}
	if cfg.GiveUpAfter == 0 {
		cfg.GiveUpAfter = 30 * time.Minute
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{dir: dir, entra: entra, store: store, alerter: alerter, cfg: cfg, log: log}
}

// MaxPerUser is the most app passwords one person may hold.
func (s *Service) MaxPerUser() int { return s.cfg.MaxPerUser }

func (s *Service) audit(ctx context.Context, e domain.AuditEvent) {
	if err := s.store.Audit(ctx, e); err != nil {
		// The action itself happened; losing its audit line is logged
		// loudly rather than failing the person's request.
		s.log.ErrorContext(ctx, "audit event not recorded", "action", e.Action, "subject", e.SubjectID, "err", err)
	}
}
