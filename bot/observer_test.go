package bot_test

import (
	"github.com/apppass/apppass/bot"
	"github.com/apppass/apppass/metrics"
)

// The metrics count what the bot observes.
var _ bot.Observer = (*metrics.Metrics)(nil)
