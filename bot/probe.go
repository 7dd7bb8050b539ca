package bot

import (
	"context"
	"fmt"
	"net/http"

	"github.com/slack-go/slack"

	"github.com/apppass/apppass/domain"
)

// SlackProbe asks Slack whether apppass's tokens and channels work, for
// `apppass check`. It holds its own clients and sends nothing anyone sees.
type SlackProbe struct {
	bot *slack.Client
	app *slack.Client
}

// NewSlackProbe returns a probe for the two tokens against apiURL (empty:
// Slack's). It makes no network call.
func NewSlackProbe(apiURL string, botToken, appToken domain.Secret, hc *http.Client) *SlackProbe {
	opts := []slack.Option{}
	if hc != nil {
		opts = append(opts, slack.OptionHTTPClient(hc))
	}
	if apiURL != "" {
		opts = append(opts, slack.OptionAPIURL(apiURL))
	}
	return &SlackProbe{
		bot: slack.New(botToken.Reveal(), opts...),
		app: slack.New("", append(opts, slack.OptionAppLevelToken(appToken.Reveal()))...),
	}
}

// BotIdentity calls auth.test with the bot token and returns the team and
// Enterprise Grid ids it belongs to.
func (p *SlackProbe) BotIdentity(ctx context.Context) (teamID, enterpriseID string, err error) {
	res, err := p.bot.AuthTestContext(ctx)
	if err != nil {
		return "", "", fmt.Errorf("auth.test: %w", err)
	}
	return res.TeamID, res.EnterpriseID, nil
}

// OpenConnection calls apps.connections.open with the app-level token, as
// socket mode does, without connecting to the URL it returns.
func (p *SlackProbe) OpenConnection(ctx context.Context) error {
	if _, _, err := p.app.StartSocketModeContext(ctx); err != nil {
		return fmt.Errorf("apps.connections.open: %w", err)
	}
	return nil
}

// BotInChannel reports whether the bot is a member of channel
// (conversations.info).
func (p *SlackProbe) BotInChannel(ctx context.Context, channel string) (bool, error) {
	ch, err := p.bot.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: channel})
	if err != nil {
		return false, fmt.Errorf("conversations.info %s: %w", channel, err)
	}
	return ch.IsMember, nil
}
