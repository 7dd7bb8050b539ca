package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/apppass/apppass/domain"
)

// Status is a job as `apppass job list` shows it.
type Status struct {
	Name     string
	Schedule string         // cron expression, in the Runner's time zone
	Next     time.Time      // next scheduled start; zero when not scheduled
	Disabled string         // why the job is not scheduled, if it is not
	Last     *domain.JobRun // nil when it never ran
}

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
	entra Scanner
	slack Slack
	store Store
	now   func() time.Time
	log   *slog.Logger
	cfg   Config
	jobs  []*job
	runs  atomic.Int64 // numbers this process's runs, for lease instances
}

type job struct {
	name     string
	spec     string
	schedule cron.Schedule
	disabled string
	run      func(ctx context.Context) (domain.Counts, error)
	running  atomic.Bool
}

// New builds a Runner. It returns an error naming the job whose cron
// expression does not parse, or an unknown job name in cfg.Schedules, or
// a missing dependency. Zero settings take SPEC defaults.
func New(deps Deps, cfg Config) (*Runner, error) {
	if deps.Entra == nil || deps.Slack == nil || deps.Store == nil {
		return nil, errors.New("jobs: Entra, Slack and Store are required")
	}
	cfg = withDefaults(cfg)
	if cfg.WarnAt > cfg.MaxPerUser {
		return nil, fmt.Errorf("jobs: warn_at (%d) is above max_per_user (%d)", cfg.WarnAt, cfg.MaxPerUser)
	}
	r := &Runner{entra: deps.Entra, slack: deps.Slack, store: deps.Store, now: deps.Now, log: deps.Log, cfg: cfg}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	specs := DefaultSchedules()
	for name, spec := range cfg.Schedules {
		if _, ok := specs[name]; !ok {
			return nil, fmt.Errorf("schedules: %w %q (jobs are %s)", ErrUnknownJob, name, strings.Join(Names(), ", "))
		}
		specs[name] = spec
	}
	runs := map[string]func(context.Context) (domain.Counts, error){
		LimitWarning: r.limitWarningJob, StaleWarning: r.staleWarningJob,
		ExpiryWarning: r.expiryWarningJob, HygieneReport: r.hygieneReportJob,
	}
	for _, name := range Names() {
		spec := strings.TrimSpace(specs[name])
		sched, err := cron.ParseStandard(spec)
		if err != nil {
			return nil, fmt.Errorf("schedule of job %s: %q: %w", name, spec, err)
		}
		j := &job{name: name, spec: spec, schedule: sched, run: runs[name]}
		if name == HygieneReport && cfg.ReportChannel == "" {
			j.disabled = "no report channel (APPPASS_REPORT_CHANNEL)"
		}
		r.jobs = append(r.jobs, j)
	}
	return r, nil
}

func withDefaults(c Config) Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.MaxPerUser <= 0 {
		c.MaxPerUser = 40
	}
	if c.WarnAt <= 0 {
		c.WarnAt = min(35, c.MaxPerUser)
	}
	def(&c.NotifyCooldown, 7*24*time.Hour)
	def(&c.StaleAfter, 180*24*time.Hour)
	def(&c.UnusedAfter, 90*24*time.Hour)
	def(&c.ExpiryWarning, 14*24*time.Hour)
	if c.Location == nil {
		c.Location = time.UTC
	}
	if c.Instance == "" {
		host, _ := os.Hostname()
		c.Instance = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	return c
}

// Start schedules every enabled job in the configured time zone and
// blocks until ctx ends; then it waits for running jobs, whose context
// ends too, and returns nil. A job still running at its next tick is
// skipped; a failed run is logged and tried again at the next tick.
func (r *Runner) Start(ctx context.Context) error {
	logger := cronLogger{r.log}
	c := cron.New(cron.WithLocation(r.cfg.Location), cron.WithLogger(logger),
		cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)))
	for _, j := range r.jobs {
		if j.disabled != "" {
			r.log.WarnContext(ctx, "job not scheduled", "job", j.name, "why", j.disabled)
			continue
		}
		c.Schedule(j.schedule, cron.FuncJob(func() { r.runScheduled(ctx, j.name) }))
	}
	c.Start()
	r.log.InfoContext(ctx, "jobs scheduled", "time_zone", r.cfg.Location.String(), "instance", r.cfg.Instance)
	<-ctx.Done()
	<-c.Stop().Done()
	return nil
}

// runScheduled is one cron tick: it runs the job and logs how it went.
func (r *Runner) runScheduled(ctx context.Context, name string) {
	res, err := r.RunOnce(ctx, name)
	switch {
	case errors.Is(err, ErrBusy):
		r.log.InfoContext(ctx, "job skipped: running elsewhere", "job", name)
	case err != nil && ctx.Err() != nil:
		r.log.InfoContext(ctx, "job interrupted by shutdown; retried at the next tick", "job", name, "run", res.ID, "counts", res.Counts)
	case err != nil:
		r.log.ErrorContext(ctx, "job failed; retried at the next tick", "job", name, "run", res.ID, "counts", res.Counts, "err", err)
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
	got, err := r.store.AcquireLease(ctx, name, instance, r.now(), leaseTTL)
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
		if err := r.store.ReleaseLease(rctx, name, instance); err != nil {
			r.log.WarnContext(ctx, "job lease not released; it expires by itself", "job", name, "err", err)
		}
	}()

	res := domain.JobRun{Job: name, Instance: instance, Start: r.now(), Outcome: domain.JobRunning}
	if res.ID, err = r.store.StartJobRun(ctx, name, instance, res.Start); err != nil {
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
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer fcancel()
	if err := r.store.FinishJobRun(fctx, res); err != nil {
		return res, errors.Join(runErr, fmt.Errorf("job %s: record end: %w", name, err))
	}
	if runErr != nil {
		return res, fmt.Errorf("job %s: %w", name, runErr)
	}
	r.log.InfoContext(ctx, "job done", "job", name, "run", res.ID, "took", res.End.Sub(res.Start), "counts", res.Counts)
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
				ok, err := r.store.RenewLease(ctx, name, instance, r.now(), leaseTTL)
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

// List returns every job with its schedule, next run and last run.
func (r *Runner) List(ctx context.Context) ([]Status, error) {
	now := r.now().In(r.cfg.Location)
	out := make([]Status, 0, len(r.jobs))
	for _, j := range r.jobs {
		s := Status{Name: j.name, Schedule: j.spec, Disabled: j.disabled}
		if j.disabled == "" {
			s.Next = j.schedule.Next(now)
		}
		last, ok, err := r.store.LastJobRun(ctx, j.name)
		if err != nil {
			return nil, fmt.Errorf("last run of %s: %w", j.name, err)
		}
		if ok {
			s.Last = &last
		}
		out = append(out, s)
	}
	return out, nil
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
