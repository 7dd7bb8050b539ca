package handlers

import (
	"context"
	"time"
)

// RunSettler calls SettleUnsettled now and then every interval until ctx
// ends, so that credentials left behind by failures and crashes are
// removed even when nobody uses apppass.
func (s *Service) RunSettler(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.SettleUnsettled(ctx); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "settling unsettled credentials", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
