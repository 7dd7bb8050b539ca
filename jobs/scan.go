package jobs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
)

// holder is one person's app passwords as the scan sees them.
type holder struct {
	recipient
	// Passwords are the application's credentials; LastUsed is set where
	// sign-in data has a last sign-in.
	Passwords []domain.Password
	// LastUseKnown reports that the tenant has sign-in data, so a
	// password without LastUsed has never been used.
	LastUseKnown bool
}

// lastUse is the last sign-in of each credential that has one, keyed by
// the key id's 16 bytes: about 40 bytes a credential, the one part of a
// scan that grows with the tenant (only when sign-in data exists).
type lastUse map[uuid.UUID]int64

// scan streams every apppass application once, calling fn with each
// holder; applications Trust does not accept (look-alikes, duplicates)
// are left out, and recorded as findings by Trust. With withLastUse it first reads the sign-in report, when the
// tenant has one, and fills in Password.LastUsed; lastUseKnown reports
// whether it could. A report that fails in any way is treated as absent.
func (r *Runner) scan(ctx context.Context, withLastUse bool, fn func(h holder) error) (lastUseKnown bool, err error) {
	var uses lastUse
	if withLastUse {
		uses = lastUse{}
		lastUseKnown, err = r.entra.CredentialSignIns(ctx, func(keyID string, last time.Time) error {
			id, err := uuid.Parse(keyID)
			if err != nil {
				return nil // not a credential apppass could hold
			}
			if t := last.Unix(); t > uses[id] {
				uses[id] = t
			}
			return nil
		})
		if err != nil {
			if ctx.Err() != nil {
				return false, fmt.Errorf("read sign-in activity: %w", err)
			}
			// Any failure of the beta report (a national cloud without it,
			// a 5xx, a page that does not decode) degrades to age-based
			// staleness: half a report would call used passwords unused.
			r.log.WarnContext(ctx, "sign-in activity unavailable; staleness is by age only", "err", err)
			uses, lastUseKnown = nil, false
		}
		if !lastUseKnown {
			r.log.DebugContext(ctx, "no sign-in data in this tenant; staleness is by age only")
		}
	}
	// Owners come with the listing (100 a page instead of 999) while the
	// store lacks records, as over a new store on an existing tenant, so
	// that trust is settled without a Graph call per application: the
	// first page of a process's first scan, and every page after one that
	// met an unsettled application.
	unsettled := !r.ownersSettled.Load()
	met := false
	withOwners := func() bool { w := unsettled; unsettled = false; return w }
	err = r.entra.ScanHolders(ctx, withOwners, func(app domain.Application, upn string) error {
		if ok, err := r.trust.Settled(ctx, app); err == nil && !ok {
			unsettled, met = true, true
		}
		v, err := r.trust.Check(ctx, app)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			// Not known to be apppass's: left out of this run, checked
			// again next run.
			r.log.WarnContext(ctx, "application not checked; left out", "app", app.ObjectID, "owner", app.OwnerID, "err", err)
			return nil
		}
		if v != handlers.Trusted {
			return nil
		}
		if len(uses) > 0 {
			for i := range app.Passwords {
				p := &app.Passwords[i]
				if id, err := uuid.Parse(p.KeyID); err == nil {
					if t, ok := uses[id]; ok {
						last := time.Unix(t, 0).UTC()
						p.LastUsed = &last
					}
				}
			}
		}
		known := lastUseKnown
		if withLastUse && r.cfg.GatewayLastUse {
			if err := r.addGatewayUse(ctx, &app); err != nil {
				return err
			}
			known = true
		}
		return fn(holder{recipient: recipient{id: app.OwnerID, upn: upn}, Passwords: app.Passwords, LastUseKnown: known})
	})
	if err != nil {
		return lastUseKnown, fmt.Errorf("scan applications: %w", err)
	}
	r.ownersSettled.Store(!met)
	return lastUseKnown, nil
}

// addGatewayUse merges the mail gateway's last-use records of app's
// owner into app's passwords, the later date winning.
func (r *Runner) addGatewayUse(ctx context.Context, app *domain.Application) error {
	used, err := r.lastUse.PasswordsLastUsed(ctx, app.OwnerID)
	if err != nil {
		return fmt.Errorf("gateway last use of %s: %w", app.OwnerID, err)
	}
	for i := range app.Passwords {
		p := &app.Passwords[i]
		if t, ok := used[strings.ToLower(p.KeyID)]; ok && (p.LastUsed == nil || t.After(*p.LastUsed)) {
			p.LastUsed = &t
		}
	}
	return nil
}
