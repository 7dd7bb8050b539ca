package demo

import (
	"time"

	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeslack"
)

// Roles of the demo's people.
const (
	RoleEmployee = "employee"
	RoleAdmin    = "admin"
	RoleHelpdesk = "helpdesk"
)

// Person is someone of the seeded organisation, in Slack and in Entra.
type Person struct {
	SlackID string `json:"id"`
	Handle  string `json:"handle"` // Slack handle, typed as @handle
	Name    string `json:"name"`
	Email   string `json:"email"`
	EntraID string `json:"-"`
	Role    string `json:"role"`
}

// The seeded organisation's fixed identifiers.
const (
	AdminGroup      = "9b0d7c1e-0000-4000-8000-00000000ad01"
	HelpdeskGroup   = "9b0d7c1e-0000-4000-8000-0000000000fd"
	HelpdeskChannel = "CHELPDESK"
	ReportChannel   = "CREPORTS"
	Employee        = "UALICE"
	Admin           = "UADAM"
	HelpdeskA       = "UHANA"
	HelpdeskB       = "UHUGO"
)

// seededPeople is the organisation, the employee first.
func seededPeople() []Person {
	return []Person{
		{SlackID: Employee, Handle: "alice", Name: "Alice Lund", Email: "alice@contoso.test", EntraID: "4e1f0a52-0000-4000-8000-0000000a11ce", Role: RoleEmployee},
		{SlackID: Admin, Handle: "adam", Name: "Adam Novak", Email: "adam@contoso.test", EntraID: "4e1f0a52-0000-4000-8000-00000000ad0a", Role: RoleAdmin},
		{SlackID: HelpdeskA, Handle: "hana", Name: "Hana Ito", Email: "hana@contoso.test", EntraID: "4e1f0a52-0000-4000-8000-00000000a0a1", Role: RoleHelpdesk},
		{SlackID: HelpdeskB, Handle: "hugo", Name: "Hugo Silva", Email: "hugo@contoso.test", EntraID: "4e1f0a52-0000-4000-8000-00000000a0a2", Role: RoleHelpdesk},
	}
}

// channel is a conversation the page shows.
type channel struct {
	ID   string
	Name string
}

func seededChannels() []channel {
	return []channel{{HelpdeskChannel, "helpdesk"}, {ReportChannel, "apppass-reports"}}
}

// seed fills both fakes with the organisation: the people in Slack and
// Entra, the admin and helpdesk groups, the channels with the bot in
// them, and the employee's application with three app passwords of
// different ages (one nearly expired, one old but used, one recent), and
// a helpdesk member's with the scanner's.
func seed(s *fakeslack.Server, e *fakeentra.Server, people []Person, now time.Time) {
	for _, p := range people {
		s.AddUser(fakeslack.User{ID: p.SlackID, Name: p.Handle, RealName: p.Name, Email: p.Email, TZ: "Europe/Berlin"})
		e.AddUser(fakeentra.User{ID: p.EntraID, DisplayName: p.Name, UserPrincipalName: p.Email, Mail: p.Email, AccountEnabled: true})
		switch p.Role {
		case RoleAdmin:
			e.AddGroupMember(AdminGroup, p.EntraID)
		case RoleHelpdesk:
			e.AddGroupMember(HelpdeskGroup, p.EntraID)
		}
	}
	for _, c := range seededChannels() {
		s.AddChannel(c.ID)
	}
	day := 24 * time.Hour
	e.EnableSignInActivity(true)
	alice := people[0]
	e.SeedApplication(alice.EntraID, "App passwords – "+alice.Email, []fakeentra.SeedPassword{
		{Name: "Old laptop Outlook", Start: now.Add(-720 * day)},
		{Name: "Office scanner", Start: now.Add(-210 * day), LastSignIn: now.Add(-2 * day)},
		{Name: "iPhone Mail", Start: now.Add(-35 * day), LastSignIn: now.Add(-3 * time.Hour)},
	})
	// Hugo shares the office scanner: a revocation for the two of them
	// shows the two-person rule for a request naming a helpdesk member.
	hugo := people[3]
	e.SeedApplication(hugo.EntraID, "App passwords – "+hugo.Email, []fakeentra.SeedPassword{
		{Name: "Office scanner", Start: now.Add(-200 * day), LastSignIn: now.Add(-5 * day)},
	})
}

// person returns the seeded person with Slack ID id.
func (d *Demo) person(id string) (Person, bool) {
	for _, p := range d.People {
		if p.SlackID == id {
			return p, true
		}
	}
	return Person{}, false
}

// handle is the name to show for a Slack user or channel ID, "" if
// unknown: apppass writes <#C…> without a label, as Slack resolves it.
func (d *Demo) handle(id string) string {
	if id == fakeslack.BotUserID {
		return fakeslack.BotName
	}
	if p, ok := d.person(id); ok {
		return p.Handle
	}
	for _, c := range seededChannels() {
		if c.ID == id {
			return c.Name
		}
	}
	return ""
}
