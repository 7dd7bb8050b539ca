// Package bot is apppass's Slack adapter, and the only package that
// imports slack-go. It holds:
//
//   - Slack (slack.go), the one Web API client, with the one 429 policy,
//     used by the commands and, as jobs.Slack, by the jobs (hygiene.go,
//     publish.go);
//   - Bot (bot.go), the socket-mode adapter: it acknowledges every slash
//     command (commands.go) and click (actions.go, revocations.go) at once,
//     turns them into calls on the handlers, carries out what they return
//     (delivering a new password, alerting the helpdesk, publishing a
//     revocation), and answers through response URLs (reply.go);
//   - the Block Kit rendering (render.go, secret.go, request_message.go).
package bot

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
	"github.com/apppass/apppass/logging"
)

// Command is the slash command apppass answers.
const Command = "/apppass"

// Config is what the Slack adapter needs.
type Config struct {
	AppToken domain.Secret
	BotToken domain.Secret
	APIURL   string
	// HelpdeskChannel receives alerts and revocation requests.
	HelpdeskChannel string
	// Team is the Slack workspace (T…) or Enterprise Grid organisation
	// (E…) served; every payload from elsewhere is refused.
	Team string
	// CommandTimeout bounds the work behind one command or click, from
	// when a worker takes it up.
	CommandTimeout time.Duration
	// Workers bounds how many commands and clicks are worked on at once;
	// the rest wait their turn (acks stay immediate). Zero means 32.
	Workers int
	// ShutdownGrace bounds how long in-flight work may run after Run's
	// context ends.
	ShutdownGrace time.Duration
	// HTTPClient carries Web API calls and response URL posts; nil means
	// a client with a 30 s timeout.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Gateway is the mail gateway devices use, shown in the secret
	// message; the zero value: no gateway.
	Gateway Gateway
	// Observer is told how each command, click and submission ended; nil:
	// nobody.
	Observer Observer
	// Writes counts each person's creates and deletes across replicas
	// (store.DB); nil: counted in this process only.
	Writes WriteCounter
}

// WriteCounter records a create or delete by person at at and reports
// whether it is within limit per window, counting every replica's.
// store.DB implements it.
type WriteCounter interface {
	AllowWrite(ctx context.Context, person string, at time.Time, window time.Duration, limit int) (bool, error)
}

// Observer is told how each command, click and submission ended: verb is
// apppass's own name for it (create, list, approve…, never input),
// outcome "ok" or the kind of the error the person was shown (invalid,
// forbidden, limit…). *metrics.Metrics satisfies it.
type Observer interface {
	CommandDone(verb, outcome string)
}

// Bot is the running Slack adapter.
type Bot struct {
	cfg   Config
	slack *Slack
	sm    *socketmode.Client
	h     *handlers.Handlers
	log   *slog.Logger

	profiles *expirable.LRU[string, domain.Actor]
	conn     connState
	// homeViewers are the people whose Home tab this process published
	// (home.go): only theirs are refreshed after a change.
	homeViewers *expirable.LRU[string, struct{}]
	// conflictsAlerted are the identity conflicts the helpdesk was told
	// of in the last day (identity.go).
	conflictsAlerted *expirable.LRU[string, struct{}]
	writes           *writeRate
	// workers holds a token per command or click being worked on.
	workers chan struct{}

	// work outlives the socket so in-flight commands can finish after a
	// stop signal; it is cancelled when the grace period ends.
	work       context.Context
	cancelWork context.CancelFunc
	inflight   sync.WaitGroup
}

// New returns a Bot serving h's operations through the Slack client s,
// with cfg's timeouts (config.Default holds their defaults). It makes no
// network call.
func New(cfg Config, s *Slack, h *handlers.Handlers, log *slog.Logger) *Bot {
	if log == nil {
		log = slog.Default()
	}
	log = logging.Wrap(log)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 32
	}
	work, cancel := context.WithCancel(context.Background())
	b := &Bot{
		cfg:        cfg,
		slack:      s,
		sm:         socketmode.New(s.api, socketmode.OptionLog(slogPrinter{log})),
		h:          h,
		log:        log,
		profiles:   expirable.NewLRU[string, domain.Actor](10000, nil, 5*time.Minute),
		writes:     &writeRate{now: cfg.Now, shared: cfg.Writes, log: log},
		workers:    make(chan struct{}, cfg.Workers),
		work:       work,
		cancelWork: cancel,
	}
	b.homeViewers = expirable.NewLRU[string, struct{}](homeViewersMax, nil, homeViewersTTL)
	b.conflictsAlerted = expirable.NewLRU[string, struct{}](1000, nil, 24*time.Hour)
	return b
}

// Run connects in socket mode and serves until ctx ends; then it waits up
// to the shutdown grace for in-flight work and returns. It returns an
// error when the connection fails for good.
func (b *Bot) Run(ctx context.Context) error {
	h := socketmode.NewSocketmodeHandler(b.sm)
	h.HandleSlashCommand(Command, b.onSlashCommand)
	h.HandleInteraction(slack.InteractionTypeBlockActions, b.onBlockActions)
	h.HandleInteraction(slack.InteractionTypeViewSubmission, b.onViewSubmission)
	b.conn.watch(h)
	h.HandleEvents(slackevents.AppHomeOpened, b.onAppHomeOpened)
	h.HandleDefault(func(*socketmode.Event, *socketmode.Client) {})
	b.inflight.Add(1)
	go b.refreshOnChanges(ctx)
	err := h.RunEventLoopContext(ctx)
	b.conn.up.Store(false)
	b.drain()
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("socket mode: %w", err)
	}
	return nil
}

// drain waits for in-flight work, at most the shutdown grace, then
// cancels what is left.
func (b *Bot) drain() {
	done := make(chan struct{})
	go func() { b.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(b.cfg.ShutdownGrace):
		b.log.Warn("shutdown grace over; cancelling in-flight commands")
	}
	b.cancelWork()
	<-done
}

// spawnAs runs f in the background, after the ack, as the Slack user of
// w, resolved to an actor; when that fails, the person is told why.
func (b *Bot) spawnAs(op string, w where, replace bool, f func(ctx context.Context, a domain.Actor)) {
	b.spawn(op, func(ctx context.Context) {
		a, err := b.actor(ctx, w.User)
		if err != nil {
			b.fail(ctx, w, op, err, replace)
			return
		}
		f(ctx, a)
	})
}

// spawn runs f in the background, after the ack, once one of the
// Config.Workers workers is free, with a deadline and a fresh correlation
// id that every log line of the work carries (through ctx) and every error
// message shows. op names the work in apppass's own vocabulary (create,
// approve…), never from input. Work still waiting when the shutdown grace
// ends is dropped.
func (b *Bot) spawn(op string, f func(ctx context.Context)) {
	b.inflight.Add(1)
	go func() {
		defer b.inflight.Done()
		select {
		case b.workers <- struct{}{}:
			defer func() { <-b.workers }()
		case <-b.work.Done():
			b.log.Warn("command dropped at shutdown before a worker took it", "op", op)
			return
		}
		ctx, cancel := context.WithTimeout(b.work, b.cfg.CommandTimeout)
		defer cancel()
		r := &run{op: op, ref: logging.NewRef()}
		ctx = logging.WithRef(context.WithValue(ctx, runKey{}, r), r.ref)
		start := b.cfg.Now()
		defer func() {
			if p := recover(); p != nil {
				r.failed(domain.KindInternal)
				b.log.ErrorContext(ctx, "panic in command", "op", op, "panic", fmt.Sprint(p))
			}
			b.log.InfoContext(ctx, "command done", "op", op, "outcome", r.outcome(), "took", b.cfg.Now().Sub(start))
			b.observe(op, r.outcome())
		}()
		f(ctx)
	}()
}

// observe reports one finished command, click or submission.
func (b *Bot) observe(verb, outcome string) {
	if b.cfg.Observer != nil {
		b.cfg.Observer.CommandDone(verb, outcome)
	}
}

// Working returns how many commands and clicks are being worked on now,
// for a gauge.
func (b *Bot) Working() int { return len(b.workers) }

// run is one command, click or submission being worked on.
type run struct {
	op  string
	ref string

	mu   sync.Mutex
	kind *domain.Kind // the first failure's kind; nil: ok
}

type runKey struct{}

// runOf returns the run ctx belongs to, or nil.
func runOf(ctx context.Context) *run {
	r, _ := ctx.Value(runKey{}).(*run)
	return r
}

// failed records that the work ended with an error of kind k, unless an
// earlier one was recorded.
func (r *run) failed(k domain.Kind) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.kind == nil {
		r.kind = &k
	}
}

// outcome is "ok", or the kind of the first failure.
func (r *run) outcome() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.kind == nil {
		return "ok"
	}
	return r.kind.String()
}

// slogPrinter adapts slog to socketmode's Printf-style logger.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Output(_ int, s string) error {
	p.log.Debug("socketmode", "msg", s)
	return nil
}
