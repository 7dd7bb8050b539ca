package graphclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	abs "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
	"github.com/microsoftgraph/msgraph-sdk-go/applications"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/apppass/apppass/domain"
)

// noRetry turns off the SDK's retry of 429/503/504 for one request:
// addPassword is not idempotent, so a blind retry can mint a second secret
// that nobody receives.
var noRetry = &khttp.RetryHandlerOptions{
	ShouldRetry: func(time.Duration, int, *http.Request, *http.Response) bool { return false },
}

const (
	maxThrottleWait = 60 * time.Second
	newAppLagWindow = 5 * time.Minute
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
	cfg := &applications.ItemAddPasswordRequestBuilderPostRequestConfiguration{Options: []abs.RequestOption{noRetry}}

	backoff := time.Second
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
		var wait time.Duration
		switch {
		case ge.Status == http.StatusTooManyRequests && attempt < 4:
			wait = retryAfter(err, backoff)
		case ge.Status == http.StatusNotFound && c.isNewApp(app.ObjectID) && attempt < 8:
			wait = backoff
		default:
			return domain.Password{}, domain.Secret{}, fmt.Errorf("add password: %w", classify("addPassword", err))
		}
		c.log.InfoContext(ctx, "graph addPassword: waiting to retry", "status", ge.Status, "request_id", ge.RequestID, "wait", wait, "attempt", attempt)
		if err := domain.Sleep(ctx, wait); err != nil {
			return domain.Password{}, domain.Secret{}, fmt.Errorf("add password: %w", err)
		}
		backoff = min(backoff*2, 8*time.Second)
	}
}

// RemovePassword removes credential keyID from app. It returns a
// KindNotFound error when the credential is already gone.
func (c *Client) RemovePassword(ctx context.Context, app domain.Application, keyID string) error {
	id, err := uuid.Parse(keyID)
	if err != nil {
		return domain.Errorf(domain.KindInvalid, "That is not an app password id.")
	}
	body := applications.NewItemRemovePasswordPostRequestBody()
	body.SetKeyId(&id)
	err = c.graph.Applications().ByApplicationId(app.ObjectID).RemovePassword().Post(ctx, body, nil)
	if err != nil {
		ge := inspect("removePassword", err)
		if ge.Status == http.StatusNotFound || (ge.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(ge.Message), "no password credential")) {
			err = domain.Wrap(domain.KindNotFound, ge, "That app password no longer exists.")
		} else {
			err = classify("removePassword", err)
		}
		if domain.KindOf(err) != domain.KindNotFound {
			return fmt.Errorf("remove password: %w", err)
		}
	}
	c.updateCached(app.OwnerID, app.ObjectID, func(a *domain.Application) {
		a.Passwords = slices.DeleteFunc(a.Passwords, func(p domain.Password) bool { return strings.EqualFold(p.KeyID, keyID) })
	})
	if err != nil {
		return fmt.Errorf("remove password: %w", err)
	}
	return nil
}

func (c *Client) isNewApp(objectID string) bool {
	at, ok := c.newApps.Get(objectID)
	return ok && c.now().Sub(at) < newAppLagWindow
}

// retryAfter reads Retry-After (seconds or an HTTP date) from a Graph
// error, falling back to def, and caps the wait.
func retryAfter(err error, def time.Duration) time.Duration {
	type headered interface {
		GetResponseHeaders() *abs.ResponseHeaders
	}
	var h headered
	if errors.As(err, &h) && h.GetResponseHeaders() != nil {
		for _, v := range h.GetResponseHeaders().Get("Retry-After") {
			if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				return min(time.Duration(s)*time.Second, maxThrottleWait)
			}
			if t, err := http.ParseTime(v); err == nil {
				return min(max(time.Until(t), 0), maxThrottleWait)
			}
		}
	}
	return def
}
