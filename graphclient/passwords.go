package graphclient

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/apppass/apppass/domain"
)

// addPasswordRetry bounds AddPassword's own waits. Only answers after
// which Graph certainly created nothing are waited out: 429 (the call was
// refused before it ran) and the 404 of an application this process just
// created and Entra has not replicated yet. Never 5xx or a lost answer:
// those may have minted a secret, which the caller reconciles.
var addPasswordRetry = retryPolicy{first: time.Second, maxBackoff: 8 * time.Second, maxWait: time.Minute}

const (
	addPasswordThrottled = 4 // calls in all while Graph answers 429
	addPasswordNewApp    = 8 // calls in all while a new application answers 404
	newAppLagWindow      = 5 * time.Minute
)

// AddPassword creates a password credential called name on app, expiring
// at expires (zero: Entra's default). It waits out 429s (Entra did not act
// on a throttled call) and the 404s of a just-created application, and
// never retries an ambiguous failure: the caller must reconcile after any
// error. The secret is returned only as a domain.Secret.
func (c *Client) AddPassword(ctx context.Context, app domain.Application, name string, expires time.Time) (domain.Password, domain.Secret, error) {
	pc := models.NewPasswordCredential()
	pc.SetDisplayName(ptr(name))
	if !expires.IsZero() {
		pc.SetEndDateTime(ptr(expires.UTC()))
	}
	body := applications.NewItemAddPasswordPostRequestBody()
	body.SetPasswordCredential(pc)
	cfg := &applications.ItemAddPasswordRequestBuilderPostRequestConfiguration{Options: []abs.RequestOption{&noRetry}}

	backoff := addPasswordRetry.first
	for attempt := 1; ; attempt++ {
		res, err := c.graph.Applications().ByApplicationId(app.ObjectID).AddPassword().Post(ctx, body, cfg)
		if err == nil {
			p := toPassword(res)
			secret := domain.NewSecret(deref(res.GetSecretText()))
			if secret.IsZero() || p.KeyID == "" {
				return domain.Password{}, domain.Secret{}, domain.Errorf(domain.KindUpstream, "Microsoft Entra returned an incomplete answer. Please try again.")
			}
			c.updateCached(app.OwnerID, app.ObjectID, func(a *domain.Application) { a.Passwords = append(a.Passwords, p) })
			return p, secret, nil
		}
		ge := inspect("addPassword", err)
		retry := (ge.Status == http.StatusTooManyRequests && attempt < addPasswordThrottled) ||
			(ge.Status == http.StatusNotFound && c.isNewApp(app.ObjectID) && attempt < addPasswordNewApp)
		wait, ok := c.wait.delay(addPasswordRetry, ge.RetryAfter, backoff)
		if !retry || !ok || c.wait.pastDeadline(ctx, wait) {
			return domain.Password{}, domain.Secret{}, fmt.Errorf("add password: %w", classify("addPassword", err))
		}
		c.log.InfoContext(ctx, "graph addPassword: waiting to retry", "status", ge.Status, "request_id", ge.RequestID, "wait", wait, "attempt", attempt)
		if c.wait.sleep(ctx, wait) != nil {
			return domain.Password{}, domain.Secret{}, fmt.Errorf("add password: %w", classify("addPassword", err))
		}
		backoff = min(backoff*2, addPasswordRetry.maxBackoff)
	}
}

// RemovePassword removes credential keyID from app. It returns a
// KindNotFound error when the credential is already gone. Whether it is
// gone is decided by what Entra lists, never by the wording of Graph's
// refusal: after a 400 or 404, the owner's applications are listed
// afresh, and a key no longer listed on app (or an app no longer listed)
// is already removed; a key still listed keeps the failure.
func (c *Client) RemovePassword(ctx context.Context, app domain.Application, keyID string) error {
	id, err := uuid.Parse(keyID)
	if err != nil {
		return domain.Errorf(domain.KindInvalid, "That is not an app password id.")
	}
	body := applications.NewItemRemovePasswordPostRequestBody()
	body.SetKeyId(&id)
	// Removing twice removes nothing more: retried like a read.
	err = c.wait.retry(ctx, graphRetry, "removePassword", func() error {
		return c.graph.Applications().ByApplicationId(app.ObjectID).RemovePassword().Post(ctx, body, nil)
	})
	if err != nil {
		ge := inspect("removePassword", err)
		gone := false
		if ge.Status == http.StatusNotFound || ge.Status == http.StatusBadRequest {
			gone = c.keyGone(ctx, app, keyID)
		}
		if !gone {
			return fmt.Errorf("remove password: %w", classify("removePassword", err))
		}
		err = domain.Wrap(domain.KindNotFound, ge, "That app password no longer exists.")
	}
	c.updateCached(app.OwnerID, app.ObjectID, func(a *domain.Application) {
		a.Passwords = slices.DeleteFunc(a.Passwords, func(p domain.Password) bool { return strings.EqualFold(p.KeyID, keyID) })
	})
	if err != nil {
		return fmt.Errorf("remove password: %w", err)
	}
	return nil
}

// keyGone reports whether Entra no longer lists credential keyID on app,
// from a fresh listing of its owner's applications. When it cannot tell
// (no owner to list by, the listing fails, or the application is new and
// may not be listed yet) it says no: a password is never reported removed
// on a guess.
func (c *Client) keyGone(ctx context.Context, app domain.Application, keyID string) bool {
	if app.OwnerID == "" {
		return false
	}
	apps, err := c.FreshApplications(ctx, app.OwnerID)
	if err != nil {
		c.log.WarnContext(ctx, "graph removePassword: could not list to see whether the password is gone", "app", app.ObjectID, "err", err)
		return false
	}
	for _, a := range apps {
		if !strings.EqualFold(a.ObjectID, app.ObjectID) {
			continue
		}
		return !slices.ContainsFunc(a.Passwords, func(p domain.Password) bool { return strings.EqualFold(p.KeyID, keyID) })
	}
	// The application itself is no longer listed: gone, with its
	// passwords, unless this process made it so recently that Entra may
	// not list it yet.
	return !c.isNewApp(app.ObjectID)
}

func (c *Client) isNewApp(objectID string) bool {
	at, ok := c.newApps.Get(objectID)
	return ok && c.now().Sub(at) < newAppLagWindow
}
