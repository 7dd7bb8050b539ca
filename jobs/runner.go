package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/apppass/apppass/domain"
)

// ErrBusy means another run of the job holds its lease, in this process
// or another.
var ErrBusy = errors.New("job is already running")

// ErrUnknownJob means there is no job of that name.
var ErrUnknownJob = errors.New("no such job")

// Lease timing: a run renews its lease every leaseRenew; a process that
// dies stops renewing and another may run the job after leaseTTL.
const (
	leaseTTL   = 5 * time.Minute
	leaseRenew = time.Minute
)

// Runner schedules and runs the jobs. It is safe for concurrent use.
type Runner struct {
	entra       Scanner
	trust       Trust
	directory   Directory
	offboarding Offboarder
	slack       Slack
	runStore    RunStore
	notices     NoticeStore
	lastUse     LastUseStore
	reports     ReportStore
	findings    FindingStore
	prune       Pruner
	deltaLinks  DeltaLinkStore
	reconciler  Reconciler
	revocations Revocations
	observer    Observer
	now         func() time.Time
	log         *slog.Logger
	cfg         Config
	jobs        []*job
	runs        atomic.Int64 // numbers this process's runs, for lease instances
	// ownersSettled is set once a scan met only applications whose trust
	// was settled; until then scans ask for owners with their first page.
	ownersSettled atomic.Bool
}

// job is one job the Runner knows. A scheduled job has a cron spec; a
// background job runs every BackgroundInterval and once at start-up.
type job struct {
	name       string
	spec       string // cron expression, or "every …" for a background job
	schedule   cron.Schedule
	background bool
	disabled   string
	run        func(ctx context.Context) (domain.Counts, error)
	running    atomic.Bool
}

// New builds a Runner. cfg's limits and durations are trusted: config.Load
// validated them, once, for every package. New still returns an error for
// a job whose cron expression does not parse or is missing, an unknown job
// name in cfg.Schedules, or a missing dependency, which it meets anyway.
func New(deps Deps, cfg Config) (*Runner, error) {
	if deps.Entra == nil || deps.Trust == nil || deps.Slack == nil || deps.Reconciler == nil || deps.Revocations == nil ||
		deps.Runs == nil || deps.Notices == nil || deps.LastUse == nil || deps.Reports == nil || deps.Findings == nil || deps.Prune == nil {
		return nil, errors.New("jobs: Entra, Trust, Slack, Reconciler, Revocations, Runs, Notices, LastUse, Reports, Findings and Prune are required")
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	r := &Runner{entra: deps.Entra, trust: deps.Trust, directory: deps.Directory, offboarding: deps.Offboarding, observer: deps.Observer, slack: deps.Slack,
		runStore: deps.Runs, notices: deps.Notices, lastUse: deps.LastUse, reports: deps.Reports, findings: deps.Findings, prune: deps.Prune, deltaLinks: deps.DeltaLinks,
		reconciler: deps.Reconciler, revocations: deps.Revocations, now: deps.Now, log: deps.Log, cfg: cfg}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	scheduled := map[string]bool{}
	for _, d := range definitions() {
		scheduled[d.name] = !d.background
	}
	for name := range cfg.Schedules {
		if !scheduled[name] {
			return nil, fmt.Errorf("schedules: %w %q (scheduled jobs are %s)", ErrUnknownJob, name, strings.Join(scheduledNames(), ", "))
		}
	}
	for _, d := range definitions() {
		j := &job{name: d.name, background: d.background, run: func(ctx context.Context) (domain.Counts, error) { return d.run(r, ctx) }}
		if d.background {
			j.spec, j.schedule = "every "+domain.HumanDuration(cfg.BackgroundInterval), every(cfg.BackgroundInterval)
		} else {
			j.spec = strings.TrimSpace(cfg.Schedules[d.name])
			sched, err := cron.ParseStandard(j.spec)
			if err != nil {
				return nil, fmt.Errorf("schedule of job %s: %q: %w", d.name, j.spec, err)
			}
			j.schedule = sched
		}
		if d.name == HygieneReport && cfg.ReportChannel == "" {
			j.disabled = "no report channel (APPPASS_REPORT_CHANNEL)"
		}
		if d.name == Offboarding && (deps.Directory == nil || deps.DeltaLinks == nil || deps.Offboarding == nil) {
			j.disabled = "no directory to read"
		}
		r.jobs = append(r.jobs, j)
	}
	return r, nil
}

// scheduledNames are the jobs that run on a cron schedule.
func scheduledNames() []string {
	var out []string
	for _, d := range definitions() {
		if !d.background {
			out = append(out, d.name)
		}
	}
	return out
}

// every is a schedule of a fixed interval, below a second too (cron's
// own @every rounds up to seconds).
type every time.Duration

func (e every) Next(t time.Time) time.Time { return t.Add(time.Duration(e)) }

// Start schedules every enabled job, the scheduled ones in the configured
// time zone, runs the background jobs once at once, and blocks until ctx
// ends; then it waits for running jobs, whose context ends too, and
// returns nil. A job still running at its next tick is skipped; a failed
// run is logged and tried again at the next tick.
func (r *Runner) Start(ctx context.Context) error {
	logger := cronLogger{r.log}
	c := cron.New(cron.WithLocation(r.cfg.Location), cron.WithLogger(logger),
		cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)))
	var startup sync.WaitGroup
	for _, j := range r.jobs {
		if j.disabled != "" {
			r.log.WarnContext(ctx, "job not scheduled", "job", j.name, "why", j.disabled)
			continue
		}
		c.Schedule(j.schedule, cron.FuncJob(func() { r.runScheduled(ctx, j) }))
		if j.background {
			// At start-up too: work a crash left behind is picked up at
			// once. A tick meanwhile finds the job busy and skips.
			startup.Go(func() { r.runScheduled(ctx, j) })
		}
	}
	c.Start()
	r.log.InfoContext(ctx, "jobs scheduled", "time_zone", r.cfg.Location.String(), "instance", r.cfg.Instance)
	<-ctx.Done()
	<-c.Stop().Done()
	startup.Wait()
	return nil
}

// runScheduled is one tick of j: it runs the job and logs how it went.
// Background jobs, which run every minute or so, log at debug level what
// scheduled jobs log at info.
func (r *Runner) runScheduled(ctx context.Context, j *job) {
	res, err := r.RunOnce(ctx, j.name)
	quiet := slog.LevelInfo
	if j.background {
		quiet = slog.LevelDebug
	}
	switch {
	case errors.Is(err, ErrBusy):
		r.log.Log(ctx, quiet, "job skipped: running elsewhere", "job", j.name)
	case err != nil && ctx.Err() != nil:
		r.log.InfoContext(ctx, "job interrupted by shutdown; retried at the next tick", "job", j.name, "run", res.ID, "counts", res.Counts)
	case err != nil:
		r.log.ErrorContext(ctx, "job failed; retried at the next tick", "job", j.name, "run", res.ID, "counts", res.Counts, "err", err)
	default:
		r.log.Log(ctx, quiet, "job done", "job", j.name, "run", res.ID, "took", res.End.Sub(res.Start), "counts", res.Counts)
	}
}

// RunOnce runs the job name now, under its lease, and records the run. It
// returns ErrUnknownJob for an unknown name, ErrBusy when the job is
// running already (here or in another process), and the job's error when
// it failed.
func (r *Runner) RunOnce(ctx context.Context, name string) (domain.JobRun, error) {
	j := r.job(name)
	if j == nil {
		return domain.JobRun{}, fmt.Errorf("%w %q (jobs are %s)", ErrUnknownJob, name, strings.Join(Names(), ", "))
	}
	if !j.running.CompareAndSwap(false, true) {
		return domain.JobRun{Job: name}, fmt.Errorf("job %s: %w in this process", name, ErrBusy)
	}
	defer j.running.Store(false)

	instance := fmt.Sprintf("%s#%d", r.cfg.Instance, r.runs.Add(1))
	got, err := r.runStore.AcquireLease(ctx, name, instance, r.now(), leaseTTL)
	if err != nil {
		return domain.JobRun{Job: name}, fmt.Errorf("job %s: lease: %w", name, err)
	}
	if !got {
		return domain.JobRun{Job: name}, fmt.Errorf("job %s: %w in another process", name, ErrBusy)
	}
	// Give the lease back even when ctx has ended.
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := r.runStore.ReleaseLease(rctx, name, instance); err != nil {
			r.log.WarnContext(ctx, "job lease not released; it expires by itself", "job", name, "err", err)
		}
	}()

	res := domain.JobRun{Job: name, Instance: instance, Start: r.now(), Outcome: domain.JobRunning}
	if res.ID, err = r.runStore.StartJobRun(ctx, name, instance, res.Start); err != nil {
		return res, fmt.Errorf("job %s: record start: %w", name, err)
	}
	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopRenew := r.keepLease(jctx, name, instance, cancel)
	counts, runErr := j.run(jctx)
	stopRenew()
	if runErr != nil && context.Cause(jctx) != nil && ctx.Err() == nil {
		runErr = fmt.Errorf("%w: %w", context.Cause(jctx), runErr)
	}

	res.End, res.Counts, res.Outcome = r.now(), counts, domain.JobOK
	if runErr != nil {
		res.Outcome, res.Error = domain.JobFailed, runErr.Error()
	}
	if r.observer != nil {
		r.observer.JobRun(name, string(res.Outcome), res.End.Sub(res.Start))
	}
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer fcancel()
	if err := r.runStore.FinishJobRun(fctx, res); err != nil {
		return res, errors.Join(runErr, fmt.Errorf("job %s: record end: %w", name, err))
	}
	if runErr != nil {
		return res, fmt.Errorf("job %s: %w", name, runErr)
	}
	return res, nil
}

// keepLease renews the run's lease until the returned stop is called; if
// the lease is lost (the process stalled past its TTL and another took
// over), it cancels the run so two processes do not both notify.
func (r *Runner) keepLease(ctx context.Context, name, instance string, cancel context.CancelCauseFunc) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(leaseRenew)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				ok, err := r.runStore.RenewLease(ctx, name, instance, r.now(), leaseTTL)
				if err == nil && !ok {
					err = errors.New("lease taken over by another process")
				}
				if err != nil {
					cancel(fmt.Errorf("job %s: lost its lease: %w", name, err))
					return
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

func (r *Runner) job(name string) *job {
	i := slices.IndexFunc(r.jobs, func(j *job) bool { return j.name == name })
	if i < 0 {
		return nil
	}
	return r.jobs[i]
}

// cronLogger sends cron's own messages to slog.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}
