package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/apppass/apppass/domain"
)

// buckets are the distribution's bands: 0–9, 10–19, 20–(WarnAt−1) and
// WarnAt–Max, dropping those that WarnAt makes empty.
func buckets(warnAt, max int) []domain.Bucket {
	var out []domain.Bucket
	for _, lo := range []int{0, 10, 20} {
		if lo < warnAt {
			out = append(out, domain.Bucket{Min: lo})
		}
	}
	out = append(out, domain.Bucket{Min: warnAt, Max: max})
	for i := 0; i < len(out)-1; i++ {
		out[i].Max = out[i+1].Min - 1
	}
	return out
}

// hygieneReportJob posts the report to the report channel and keeps its
// figures for the next one.
func (r *Runner) hygieneReportJob(ctx context.Context) (domain.Counts, error) {
	if r.cfg.ReportChannel == "" {
		return nil, errors.New("no report channel: set APPPASS_REPORT_CHANNEL")
	}
	now := r.now()
	rep := domain.Report{
		At: now, WarnAt: r.cfg.Limits.WarnAt, Max: r.cfg.Limits.MaxPerUser, Distribution: buckets(r.cfg.Limits.WarnAt, r.cfg.Limits.MaxPerUser),
		StaleAfter: r.cfg.StaleAfter, UnusedAfter: r.cfg.UnusedAfter, ExpiryWarning: r.cfg.ExpiryWarning,
	}
	prevAt, prev, err := r.reports.LastReportSnapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("previous report: %w", err)
	}
	rep.Since, rep.Previous = prevAt, prev
	if prevAt.IsZero() {
		rep.Since, rep.Previous = now.AddDate(0, 0, -7), nil
	}
	ws, err := r.readWorkspace(ctx)
	if err != nil {
		return nil, err
	}

	// Holders are resolved in batches, so memory holds one batch and the
	// people near the limit, whatever the tenant's size.
	var batch []recipient
	var held []int // held[i] is batch[i]'s count
	flush := func() error {
		found, err := r.resolve(ctx, ws, batch)
		if err != nil {
			return err
		}
		for i, w := range batch {
			f := found[w.id]
			if f.SlackID == "" {
				rep.Unreachable++
			}
			if r.cfg.Limits.Near(held[i]) {
				rep.NearLimit = append(rep.NearLimit, domain.HolderCount{Name: f.Name, Held: held[i]})
			}
		}
		batch, held = batch[:0], held[:0]
		return nil
	}
	rep.LastUseKnown, err = r.scan(ctx, true, func(h holder) error {
		n := len(h.Passwords)
		rep.Holders++
		rep.Passwords += n
		for i := range rep.Distribution {
			if b := &rep.Distribution[i]; n >= b.Min && (n <= b.Max || i == len(rep.Distribution)-1) {
				b.Holders++
				break
			}
		}
		for _, p := range h.Passwords {
			switch {
			case expired(p, now):
				rep.Expired++
			case r.expiresSoon(p, now):
				rep.ExpiringSoon++
			}
			if r.isStale(p, now, h.LastUseKnown) {
				rep.Stale++
			}
		}
		if n == 0 {
			return ctx.Err()
		}
		batch, held = append(batch, h.recipient), append(held, n)
		if len(batch) == resolveBatch {
			return flush()
		}
		return ctx.Err()
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return rep.Figures(), err
	}
	slices.SortFunc(rep.NearLimit, func(a, b domain.HolderCount) int {
		return cmp.Or(cmp.Compare(b.Held, a.Held), compareFold(a.Name, b.Name))
	})
	if rep.Created, rep.Deleted, rep.Revoked, err = r.reports.AuditCounts(ctx, rep.Since); err != nil {
		return rep.Figures(), fmt.Errorf("audit counts: %w", err)
	}
	if rep.Offboarded, err = r.reports.OffboardedSince(ctx, rep.Since); err != nil {
		return rep.Figures(), fmt.Errorf("offboarded: %w", err)
	}
	if rep.PendingRevocations, err = r.reports.PendingRevocations(ctx); err != nil {
		return rep.Figures(), fmt.Errorf("pending revocations: %w", err)
	}
	found, err := r.reports.FindingCounts(ctx)
	if err != nil {
		return rep.Figures(), fmt.Errorf("application findings: %w", err)
	}
	rep.Lookalikes, rep.Duplicates = found[domain.FindingLookalike], found[domain.FindingDuplicate]
	counts := rep.Figures()
	counts["lookalikes"], counts["duplicates"], counts["offboarded"] = rep.Lookalikes, rep.Duplicates, rep.Offboarded
	counts["created"], counts["deleted"], counts["revoked"], counts["pending_revocations"] = rep.Created, rep.Deleted, rep.Revoked, rep.PendingRevocations
	if err := r.slack.PostReport(ctx, r.cfg.ReportChannel, rep); err != nil {
		return counts, fmt.Errorf("post report: %w", err)
	}
	if err := r.reports.SaveReportSnapshot(context.WithoutCancel(ctx), now, rep.Figures()); err != nil {
		return counts, fmt.Errorf("save report figures (report posted): %w", err)
	}
	counts["posted"] = 1
	return counts, nil
}
