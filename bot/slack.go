package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/logging"
)

// maxRateLimited bounds how many 429s in a row one call waits out before
// it gives up.
const maxRateLimited = 8

// Slack is apppass's one Slack Web API client, used by the commands and by
// the jobs (it is their jobs.Slack). Every call waits out Slack's 429s,
// each for its Retry-After, and is otherwise unthrottled. It is safe for
// concurrent use.
type Slack struct {
	api             *slack.Client
	http            *http.Client
	helpdeskChannel string
	now             func() time.Time
	log             *slog.Logger
	// Sleep waits out a 429's Retry-After; tests replace it. It returns
	// ctx's error when ctx ends first.
	Sleep func(ctx context.Context, d time.Duration) error
	// homeChanges carries the Slack users whose Home tab a revocation
	// published by the jobs altered, for the Bot to refresh (Bot.Run)
	// when one runs; the client knows nothing of the Bot. Without one
	// (apppass job run) it fills and further changes are dropped: the
	// tabs are rebuilt at their next open.
	homeChanges chan []string
}

// NewSlack returns the client for cfg (tokens, API URL, HTTP client,
// helpdesk channel, clock). It makes no network call.
func NewSlack(cfg Config, log *slog.Logger) *Slack {
	if log == nil {
		log = slog.Default()
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	opts := []slack.Option{slack.OptionHTTPClient(hc)}
	if !cfg.AppToken.IsZero() {
		opts = append(opts, slack.OptionAppLevelToken(cfg.AppToken.Reveal()))
	}
	if cfg.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(cfg.APIURL))
	}
	return &Slack{api: slack.New(cfg.BotToken.Reveal(), opts...), http: hc, helpdeskChannel: cfg.HelpdeskChannel,
		now: now, log: log, Sleep: domain.Sleep, homeChanges: make(chan []string, homeChangesQueued)}
}

// homeChangesQueued bounds the Home tab changes waiting for the Bot.
const homeChangesQueued = 64

// retry runs call until it succeeds, fails with something other than a
// 429, or has been rate limited maxRateLimited times in a row.
func (s *Slack) retry(ctx context.Context, call func() error) error {
	limited := 0
	for {
		err := call()
		if err == nil {
			return nil
		}
		if werr := s.waitRateLimit(ctx, err, &limited); werr != nil {
			return werr
		}
	}
}

// waitRateLimit waits out err when it is Slack's 429 and returns nil to
// ask again; otherwise, or after too many 429s in a row, it returns err.
func (s *Slack) waitRateLimit(ctx context.Context, err error, limited *int) error {
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) {
		return err
	}
	if *limited++; *limited > maxRateLimited {
		return fmt.Errorf("still rate limited after %d waits: %w", maxRateLimited, err)
	}
	wait := rl.RetryAfter
	if wait <= 0 {
		wait = time.Second
	}
	s.log.InfoContext(ctx, "slack rate limit; waiting", "retry_after", wait)
	return s.Sleep(ctx, wait)
}

// post sends a message to channel (a user id posts to the bot's DM with
// that person) and returns its timestamp.
func (s *Slack) post(ctx context.Context, channel, text string, blocks []slack.Block) (string, error) {
	// Links people typed (in a reason, a name) are never unfurled into
	// previews in the helpdesk channel or a DM.
	opts := []slack.MsgOption{slack.MsgOptionText(text, false), slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl()}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(fitBlocks(blocks, maxMessageBlocks)...))
	}
	var ts string
	err := s.retry(ctx, func() (err error) {
		_, ts, err = s.api.PostMessageContext(ctx, channel, opts...)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("chat.postMessage to %s: %w", channel, err)
	}
	return ts, nil
}

// update rewrites message ts in channel.
func (s *Slack) update(ctx context.Context, channel, ts, text string, blocks []slack.Block) error {
	err := s.retry(ctx, func() error {
		_, _, _, err := s.api.UpdateMessageContext(ctx, channel, ts, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(fitBlocks(blocks, maxMessageBlocks)...))
		return err
	})
	if err != nil {
		return fmt.Errorf("chat.update %s: %w", ts, err)
	}
	return nil
}

// postEphemeral shows a message to user only, in channel.
func (s *Slack) postEphemeral(ctx context.Context, channel, user string, r reply) error {
	opts := []slack.MsgOption{slack.MsgOptionText(r.Text, false)}
	if len(r.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(fitBlocks(r.Blocks, maxMessageBlocks)...))
	}
	return s.retry(ctx, func() error {
		_, err := s.api.PostEphemeralContext(ctx, channel, user, opts...)
		return err
	})
}

// respondTo answers through an interaction's response URL. The URL is a
// bearer link: its error never holds it (net/http's *url.Error does).
func (s *Slack) respondTo(ctx context.Context, responseURL string, r reply) error {
	msg := &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: r.Text, ReplaceOriginal: r.Replace}
	if len(r.Blocks) > 0 {
		msg.Blocks = &slack.Blocks{BlockSet: fitBlocks(r.Blocks, maxMessageBlocks)}
	}
	err := s.retry(ctx, func() error { return slack.PostWebhookCustomHTTPContext(ctx, responseURL, s.http, msg) })
	return hideURL(err, responseURL)
}

// hideURL returns err with every mention of the bearer link u replaced,
// or nil for nil. It still unwraps to err, so errors.As finds the cause.
func hideURL(err error, u string) error {
	if err == nil || u == "" || !strings.Contains(err.Error(), u) {
		return err
	}
	return redactedError{msg: strings.ReplaceAll(err.Error(), u, logging.Redacted), err: err}
}

// redactedError is an error whose text had a bearer link removed; it
// unwraps to the original for errors.Is/As, but prints only the redacted
// text.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

// openView opens a modal.
func (s *Slack) openView(ctx context.Context, triggerID string, view slack.ModalViewRequest) error {
	view.Blocks.BlockSet = fitBlocks(view.Blocks.BlockSet, maxViewBlocks)
	return s.retry(ctx, func() error {
		_, err := s.api.OpenViewContext(ctx, triggerID, view)
		return err
	})
}

// userInfo returns Slack user userID.
func (s *Slack) userInfo(ctx context.Context, userID string) (*slack.User, error) {
	var u *slack.User
	err := s.retry(ctx, func() (err error) {
		u, err = s.api.GetUserInfoContext(ctx, userID)
		return err
	})
	return u, err
}

// userByEmail returns the active Slack user whose profile email is
// email. Slack finds no deactivated user this way.
func (s *Slack) userByEmail(ctx context.Context, email string) (*slack.User, error) {
	var u *slack.User
	err := s.retry(ctx, func() (err error) {
		u, err = s.api.GetUserByEmailContext(ctx, email)
		return err
	})
	return u, err
}

// DM posts a direct message to a Slack user. Never call it with a secret.
func (s *Slack) DM(ctx context.Context, userID, text string, blocks []slack.Block) error {
	var ch *slack.Channel
	err := s.retry(ctx, func() (err error) {
		ch, _, _, err = s.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{userID}})
		return err
	})
	if err != nil {
		return fmt.Errorf("open DM with %s: %w", userID, err)
	}
	if _, err := s.post(ctx, ch.ID, text, blocks); err != nil {
		return fmt.Errorf("DM %s: %w", userID, err)
	}
	return nil
}

// dmOrLog is DM for messages whose loss is only logged; it reports
// whether the message was sent.
func (s *Slack) dmOrLog(ctx context.Context, user, text string) (sent bool) {
	if err := s.DM(ctx, user, text, []slack.Block{section(text)}); err != nil {
		s.log.ErrorContext(ctx, "DM not sent", "user", user, "err", err)
		return false
	}
	return true
}

// AlertHelpdesk posts text to the helpdesk channel. It returns an error
// when no channel is set or Slack did not take it.
func (s *Slack) AlertHelpdesk(ctx context.Context, text string) error {
	if s.helpdeskChannel == "" {
		return errors.New("APPPASS_HELPDESK_CHANNEL is not set")
	}
	if _, err := s.post(ctx, s.helpdeskChannel, ":warning: "+escape(text), nil); err != nil {
		return fmt.Errorf("alert helpdesk: %w", err)
	}
	return nil
}
