package jobs

import (
	"context"
	"fmt"
	"strings"

	"github.com/apppass/apppass/domain"
)

// recipient is an Entra user the jobs want to reach.
type recipient struct {
	id  string // Entra object id
	upn string // from the application's displayName; "" when unknown
}

// found is how a recipient is reached and named.
type found struct {
	SlackID string // "" when they have no Slack account apppass can find
	Name    string // UPN when known, else the Entra id
}

// workspace is the Slack workspace's active people, from one users.list.
type workspace struct {
	byEmail map[string]string // lower-cased email → Slack id
	active  map[string]bool   // Slack ids of active people
}

// readWorkspace reads the Slack workspace once; a run calls it at most once.
func (r *Runner) readWorkspace(ctx context.Context) (workspace, error) {
	byEmail, err := r.slack.SlackUsersByEmail(ctx)
	if err != nil {
		return workspace{}, fmt.Errorf("list Slack users: %w", err)
	}
	ws := workspace{byEmail: byEmail, active: make(map[string]bool, len(byEmail))}
	for _, id := range byEmail {
		ws.active[id] = true
	}
	return ws, nil
}

// resolveBatch bounds how many Entra ids go to the store in one query.
const resolveBatch = 500

// resolve finds people in Slack without a look-up per person: first the
// store's mapping (everyone who used apppass), if that Slack account is
// still active; then the workspace, by the email or UPN the store
// remembers or the UPN from Entra. Everyone in who gets an entry.
func (r *Runner) resolve(ctx context.Context, ws workspace, who []recipient) (map[string]found, error) {
	out := make(map[string]found, len(who))
	for start := 0; start < len(who); start += resolveBatch {
		chunk := who[start:min(start+resolveBatch, len(who))]
		ids := make([]string, len(chunk))
		for i, w := range chunk {
			ids[i] = w.id
		}
		known, err := r.notices.KnownPeople(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("look up known people: %w", err)
		}
		for _, w := range chunk {
			out[w.id] = ws.find(w, known[w.id])
		}
	}
	return out, nil
}

func (ws workspace) find(w recipient, k domain.KnownPerson) found {
	f := found{Name: firstOf(k.UPN, w.upn, k.Email, w.id)}
	if k.SlackID != "" && ws.active[k.SlackID] {
		f.SlackID = k.SlackID
		return f
	}
	for _, email := range []string{k.Email, k.UPN, w.upn} {
		if id := ws.byEmail[strings.ToLower(strings.TrimSpace(email))]; email != "" && id != "" {
			f.SlackID = id
			return f
		}
	}
	return f
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
