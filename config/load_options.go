package config

import (
	"errors"
	"fmt"
	"strings"
)

// LoadOption changes what Load requires, for the verbs that need less
// than `apppass serve`.
type LoadOption func(*loadOptions)

type loadOptions struct {
	gatewayOnly  bool
	databaseOnly bool
}

// ForDatabase is for the verbs that only read apppass's database (`job
// list`, `audit export`): APPPASS_DB (or its default) is all they need, so
// neither Slack nor Entra settings are required or checked.
func ForDatabase() LoadOption {
	return func(o *loadOptions) { o.databaseOnly = true }
}

// ForGateway is for `apppass gateway`, which runs the mail gateway alone:
// the Slack tokens are not required (the bot token, when set, still lets
// guessing alerts reach the helpdesk channel), and a gateway listener is.
func ForGateway() LoadOption {
	return func(o *loadOptions) { o.gatewayOnly = true }
}

// validateSlack checks the Slack settings `apppass serve` needs and
// returns every problem, joined.
func (c Config) validateSlack() error {
	var errs []error
	switch {
	case c.SlackAppToken.IsZero():
		errs = append(errs, errors.New("SLACK_APP_TOKEN is required (an app-level token, xapp-…, with connections:write)"))
	case !strings.HasPrefix(c.SlackAppToken.Reveal(), "xapp-"):
		errs = append(errs, errors.New("SLACK_APP_TOKEN must be an app-level token starting with xapp-"))
	}
	switch {
	case c.SlackTeam == "":
		errs = append(errs, errors.New("APPPASS_SLACK_TEAM is required: the Slack team id (T…) or Enterprise Grid id (E…) apppass serves"))
	case !slackTeamID.MatchString(c.SlackTeam):
		errs = append(errs, fmt.Errorf("APPPASS_SLACK_TEAM must be a team id (T…) or Enterprise Grid id (E…), got %q", c.SlackTeam))
	}
	return errors.Join(append(errs, c.validateBotToken())...)
}

// validateBotToken checks SLACK_BOT_TOKEN.
func (c Config) validateBotToken() error {
	switch {
	case c.SlackBotToken.IsZero():
		return errors.New("SLACK_BOT_TOKEN is required (the bot token, xoxb-…)")
	case !strings.HasPrefix(c.SlackBotToken.Reveal(), "xoxb-"):
		return errors.New("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
	}
	return nil
}

// validateFor checks what the verb of o needs beyond the common settings.
func (c Config) validateFor(o loadOptions) error {
	if !o.gatewayOnly {
		return c.validateSlack()
	}
	if !c.SMTP.Enabled() {
		return errors.New("apppass gateway needs APPPASS_SMTP_ADDR (STARTTLS, e.g. :587) or APPPASS_SMTPS_ADDR (implicit TLS, e.g. :465)")
	}
	if !c.SlackBotToken.IsZero() {
		return c.validateBotToken()
	}
	return nil
}
