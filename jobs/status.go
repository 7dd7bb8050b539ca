package jobs

import (
	"context"
	"fmt"
	"time"

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

// List returns every job with its schedule, next run and last run.
func (r *Runner) List(ctx context.Context) ([]Status, error) {
	now := r.now().In(r.cfg.Location)
	out := make([]Status, 0, len(r.jobs))
	for _, j := range r.jobs {
		s := Status{Name: j.name, Schedule: j.spec, Disabled: j.disabled}
		if j.disabled == "" {
			s.Next = j.schedule.Next(now)
		}
		last, ok, err := r.runStore.LastJobRun(ctx, j.name)
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
