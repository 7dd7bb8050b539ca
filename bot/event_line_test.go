package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
)

// A gateway event names the owner as the actor and the password used,
// not "apppass".
func TestEventLineNamesTheOwnerAndPassword(t *testing.T) {
	p := handlers.Profile{Listing: handlers.Listing{Owner: domain.User{ID: "u-1", UserPrincipalName: "alice@contoso.test"},
		Passwords: []domain.Password{{KeyID: "k-1", Name: "Scanner"}}}}
	at := time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		e    domain.AuditEvent
		want string
	}{
		{domain.AuditEvent{At: at, ActorID: "u-1", SubjectID: "u-1", Action: "smtp-send", KeyID: "k-1", Name: "from 127.0.0.1, 1 recipient, 227 bytes, Message-ID <a@b>", Outcome: "ok"},
			"• 2026-01-31 09:00 smtp-send from 127.0.0.1, 1 recipient, 227 bytes, Message-ID &lt;a@b&gt; by alice@contoso.test with *Scanner*: ok"},
		{domain.AuditEvent{At: at, ActorID: "u-1", SubjectID: "u-1", Action: "smtp-login", KeyID: "k-gone", Name: "from 127.0.0.1", Outcome: "ok"},
			"by alice@contoso.test: ok"},
		{domain.AuditEvent{At: at, ActorSlack: "UADAM", ActorID: "u-9", SubjectID: "u-1", Action: "revoke", Name: "Scanner", Outcome: "ok"},
			"by <@UADAM>: ok"},
		{domain.AuditEvent{At: at, SubjectID: "u-1", Action: "offboarding", Name: "Scanner", Outcome: "ok"},
			"by apppass: ok"},
	}
	for _, tt := range tests {
		if got := eventLine(tt.e, p); !strings.Contains(got, tt.want) {
			t.Errorf("eventLine = %q, want %q in it", got, tt.want)
		}
	}
}
