package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/apppass/apppass/domain"
)

// Reconciler removes credentials that a failed request or a crashed
// process left behind: created in Entra, never shown to anyone. It looks
// at every open (pending or issued) credential record; a new credential
// can take minutes to appear in Graph, so a record whose credential is
// not found is looked at again until GiveUpAfter.
type Reconciler struct {
	entra ReconcileEntra
	store ReconcileStore
	audit auditor
	cfg   Config
	log   *slog.Logger
}

// NewReconciler returns the Reconciler over entra and store. A nil log is
// slog.Default().
func NewReconciler(entra ReconcileEntra, store ReconcileStore, cfg Config, log *slog.Logger) *Reconciler {
	log = logOrDefault(log)
	return &Reconciler{entra: entra, store: store, audit: auditor{store: store, log: log}, cfg: cfg.withDefaults(), log: log}
}

// Reconcile reconciles every open credential record older than
// ReconcileAfter, each under its owner's lock, and returns the tallies
// ("records", "closed", "removed"). Its error joins those of the records
// that failed (Entra's, KindUpstream, or the store's); the others are
// done.
func (r *Reconciler) Reconcile(ctx context.Context) (domain.Counts, error) {
	counts := domain.Counts{"records": 0, "closed": 0, "removed": 0}
	recs, err := r.store.CredentialsToReconcile(ctx, r.cfg.Now().Add(-r.cfg.ReconcileAfter))
	if err != nil {
		return counts, fmt.Errorf("reconcile: %w", err)
	}
	counts["records"] = len(recs)
	var errs []error
	for _, rec := range recs {
		unlock, err := r.store.LockPerson(ctx, rec.OwnerID)
		if err != nil {
			errs = append(errs, fmt.Errorf("reconcile %d: %w", rec.ID, err))
			continue
		}
		res, err := r.reconcile(ctx, rec)
		unlock()
		counts["removed"] += res.removed
		if res.closed {
			counts["closed"]++
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return counts, errors.Join(errs...)
}

// reconciled is what reconciling one record did.
type reconciled struct {
	closed  bool // the record is abandoned: nothing more to look for
	removed int  // credentials removed
}

// reconcile looks for credentials that rec's request created but nobody
// received, removes them, and records the outcome. A record whose
// credential is not found yet stays open.
func (r *Reconciler) reconcile(ctx context.Context, rec domain.CredentialRecord) (reconciled, error) {
	var res reconciled
	app := domain.Application{ObjectID: rec.AppObjectID, OwnerID: rec.OwnerID}
	targets, err := r.targets(ctx, rec)
	if err != nil {
		return res, err
	}
	var errs []error
	for _, p := range targets {
		if err := r.entra.RemovePassword(ctx, app, p.KeyID); err != nil && domain.KindOf(err) != domain.KindNotFound {
			errs = append(errs, err)
			continue
		}
		res.removed++
		r.log.InfoContext(ctx, "removed a credential nobody received", "owner", rec.OwnerID, "key_id", p.KeyID, "record", rec.ID)
		r.audit.record(ctx, domain.AuditEvent{ActorSlack: "apppass", SubjectID: rec.OwnerID, Action: "reconcile",
			KeyID: p.KeyID, Name: p.Name, Outcome: "removed undelivered"})
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("reconcile %d: %w", rec.ID, errors.Join(errs...))
	}
	if len(targets) == 0 && r.cfg.Now().Sub(rec.CreatedAt) < r.cfg.GiveUpAfter {
		return res, nil
	}
	res.closed = true
	if err := r.store.SetCredentialState(ctx, rec.ID, domain.CredentialAbandoned); err != nil {
		return res, fmt.Errorf("reconcile %d: %w", rec.ID, err)
	}
	return res, nil
}

// targets are the credentials of rec nobody received: the one Entra
// answered with, or else those with rec's name that are neither among the
// keys known before the request nor delivered by another request.
func (r *Reconciler) targets(ctx context.Context, rec domain.CredentialRecord) ([]domain.Password, error) {
	if rec.Password.KeyID != "" {
		return []domain.Password{rec.Password}, nil
	}
	listed, err := r.entra.FreshApplications(ctx, rec.OwnerID)
	if err != nil {
		return nil, fmt.Errorf("reconcile %d: %w", rec.ID, err)
	}
	i := slices.IndexFunc(listed, func(a domain.Application) bool { return a.ObjectID == rec.AppObjectID })
	if i < 0 {
		return nil, nil
	}
	fresh := listed[i]
	delivered, err := r.deliveredKeys(ctx, rec)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, k := range rec.KnownKeys {
		known[k] = true
	}
	var out []domain.Password
	for _, p := range fresh.Passwords {
		if domain.SameName(p.Name, rec.Name) && !known[p.KeyID] && !delivered[p.KeyID] {
			out = append(out, p)
		}
	}
	return out, nil
}

func (r *Reconciler) deliveredKeys(ctx context.Context, rec domain.CredentialRecord) (map[string]bool, error) {
	recent, err := r.store.RecentCredentials(ctx, rec.OwnerID, rec.CreatedAt.Add(-r.cfg.GiveUpAfter))
	if err != nil {
		return nil, fmt.Errorf("reconcile %d: %w", rec.ID, err)
	}
	keys := map[string]bool{}
	for _, c := range recent {
		if c.State == domain.CredentialDelivered || c.State == domain.CredentialRemoved {
			keys[c.Password.KeyID] = true
		}
	}
	return keys, nil
}
