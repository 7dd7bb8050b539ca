package fakeslack_test

import (
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/apppass/apppass/fakeslack"
)

func TestUserKinds(t *testing.T) {
	s := fakeslack.New(t)
	s.AddUser(fakeslack.User{ID: "U1", Name: "alice", Email: "alice@example.test"})
	s.AddGuestUser(fakeslack.User{ID: "UGUEST", Name: "guest", Email: "guest@example.test"}, false)
	s.AddGuestUser(fakeslack.User{ID: "USCG", Name: "scg", Email: "scg@example.test"}, true)
	s.AddExternalUser(fakeslack.User{ID: "UEXT", Name: "ext", Email: "alice@example.test"}, "")
	s.AddUser(fakeslack.User{ID: "ULEFT", Name: "left", Email: "left@example.test"})
	if !s.DeactivateUser("ULEFT") {
		t.Fatal("DeactivateUser: no such user")
	}
	api := newAPI(s)
	cases := []struct {
		id                                string
		team                              string
		restricted, ultra, stranger, gone bool
		email                             string
	}{
		{"U1", fakeslack.TeamID, false, false, false, false, "alice@example.test"},
		{"UGUEST", fakeslack.TeamID, true, false, false, false, "guest@example.test"},
		{"USCG", fakeslack.TeamID, true, true, false, false, "scg@example.test"},
		{"UEXT", fakeslack.ExternalTeamID, false, false, true, false, "alice@example.test"},
		{"ULEFT", fakeslack.TeamID, false, false, false, true, "left@example.test"},
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			u, err := api.GetUserInfo(tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if u.TeamID != tc.team || u.IsRestricted != tc.restricted || u.IsUltraRestricted != tc.ultra ||
				u.IsStranger != tc.stranger || u.Deleted != tc.gone || u.Profile.Email != tc.email {
				t.Fatalf("got team %s restricted %v ultra %v stranger %v deleted %v email %q",
					u.TeamID, u.IsRestricted, u.IsUltraRestricted, u.IsStranger, u.Deleted, u.Profile.Email)
			}
		})
	}
	// A deactivated user cannot be found by email (Slack: users_not_found),
	// but users.info above still reads their profile email.
	if _, err := api.GetUserByEmail("left@example.test"); slackErr(t, err) != "users_not_found" {
		t.Fatalf("lookupByEmail of a deactivated user: %v", err)
	}
}

func TestPayloadsCarryTeamAndEnterprise(t *testing.T) {
	s := fakeslack.New(t)
	s.SetEnterprise("E1", "Contoso Grid")
	s.AddUser(fakeslack.User{ID: "U1", Name: "alice"})
	s.AddExternalUser(fakeslack.User{ID: "UEXT", Name: "ext"}, "")
	cmds := make(chan slack.SlashCommand, 4)
	cbs := make(chan slack.InteractionCallback, 4)
	evs := make(chan slackevents.EventsAPIEvent, 4)
	startBot(t, s, func(c *socketmode.Client, evt socketmode.Event) {
		switch evt.Type {
		case socketmode.EventTypeSlashCommand:
			cmds <- evt.Data.(slack.SlashCommand)
		case socketmode.EventTypeInteractive:
			cbs <- evt.Data.(slack.InteractionCallback)
		case socketmode.EventTypeEventsAPI:
			evs <- evt.Data.(slackevents.EventsAPIEvent)
		}
		ackAll(c, evt)
	})
	ctx := testCtx(t)

	send := func(o fakeslack.Origin, user string) slack.SlashCommand {
		t.Helper()
		if _, err := s.SlashCommandFrom(ctx, o, user, "C1", "/apppass", "list"); err != nil {
			t.Fatal(err)
		}
		return <-cmds
	}
	cases := []struct {
		name      string
		origin    fakeslack.Origin
		user      string
		team, ent string
	}{
		{"home user", fakeslack.Origin{}, "U1", fakeslack.TeamID, "E1"},
		{"external user", fakeslack.Origin{}, "UEXT", fakeslack.ExternalTeamID, ""},
		{"other workspace", fakeslack.Origin{TeamID: "T2"}, "U1", "T2", "E1"},
		{"other grid", fakeslack.Origin{TeamID: "T3", EnterpriseID: "E9"}, "U1", "T3", "E9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := send(tc.origin, tc.user)
			if cmd.TeamID != tc.team || cmd.EnterpriseID != tc.ent {
				t.Fatalf("team %q enterprise %q, want %q %q", cmd.TeamID, cmd.EnterpriseID, tc.team, tc.ent)
			}
		})
	}

	if _, err := s.BlockAction(ctx, "U1", fakeslack.Action{ChannelID: "C1", MessageTS: "1.1", ActionID: "a"}); err != nil {
		t.Fatal(err)
	}
	cb := <-cbs
	if cb.Team.ID != fakeslack.TeamID || cb.User.TeamID != fakeslack.TeamID || cb.Enterprise.ID != "E1" || cb.Enterprise.Name != "Contoso Grid" {
		t.Fatalf("block_actions team %+v user team %q enterprise %+v", cb.Team, cb.User.TeamID, cb.Enterprise)
	}
	if _, err := s.BlockAction(ctx, "UEXT", fakeslack.Action{ChannelID: "C1", MessageTS: "1.1", ActionID: "a"}); err != nil {
		t.Fatal(err)
	}
	if cb := <-cbs; cb.Team.ID != fakeslack.ExternalTeamID || cb.User.TeamID != fakeslack.ExternalTeamID || cb.Enterprise.ID != "" {
		t.Fatalf("external block_actions team %+v user team %q enterprise %+v", cb.Team, cb.User.TeamID, cb.Enterprise)
	}

	if _, err := s.EventCallback(ctx, map[string]any{"type": "app_mention", "user": "U1"}); err != nil {
		t.Fatal(err)
	}
	ev := <-evs
	cbEv, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
	if ev.TeamID != fakeslack.TeamID || !ok || cbEv.EnterpriseID != "E1" {
		t.Fatalf("event team %q data %+v", ev.TeamID, ev.Data)
	}

	u, err := newAPI(s).GetUserInfo("U1")
	if err != nil || u.Enterprise.EnterpriseID != "E1" || u.Enterprise.EnterpriseName != "Contoso Grid" {
		t.Fatalf("users.info enterprise_user %+v, %v", u.Enterprise, err)
	}
}

func TestPayloadsOutsideGridHaveNoEnterprise(t *testing.T) {
	s := fakeslack.New(t)
	s.AddUser(fakeslack.User{ID: "U1", Name: "alice"})
	cmds := make(chan slack.SlashCommand, 1)
	startBot(t, s, func(c *socketmode.Client, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeSlashCommand {
			cmds <- evt.Data.(slack.SlashCommand)
		}
		ackAll(c, evt)
	})
	if _, err := s.SlashCommand(testCtx(t), "U1", "C1", "/apppass", ""); err != nil {
		t.Fatal(err)
	}
	if cmd := <-cmds; cmd.TeamID != fakeslack.TeamID || cmd.EnterpriseID != "" {
		t.Fatalf("team %q enterprise %q", cmd.TeamID, cmd.EnterpriseID)
	}
}

func TestAppHomeOpened(t *testing.T) {
	s := fakeslack.New(t)
	s.AddUser(fakeslack.User{ID: "U1", Name: "alice"})
	api := newAPI(s)
	opened := make(chan *slackevents.AppHomeOpenedEvent, 2)
	startBot(t, s, func(c *socketmode.Client, evt socketmode.Event) {
		ackAll(c, evt)
		if evt.Type != socketmode.EventTypeEventsAPI {
			return
		}
		ev := evt.Data.(slackevents.EventsAPIEvent)
		if home, ok := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent); ok {
			_, err := api.PublishView(home.User, slack.HomeTabViewRequest{
				Type:   slack.VTHomeTab,
				Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewSectionBlock(txt("mrkdwn", 5), nil, nil)}},
			}, "")
			if err != nil {
				t.Errorf("views.publish: %v", err)
			}
			opened <- home
		}
	})
	ctx := testCtx(t)
	if _, err := s.AppHomeOpened(ctx, "U1"); err != nil {
		t.Fatal(err)
	}
	first := <-opened
	if first.User != "U1" || first.Tab != "home" || first.Channel != "DU1" || first.EventTimeStamp == "" || first.View != nil {
		t.Fatalf("first app_home_opened %+v", first)
	}
	v, ok := s.HomeView("U1")
	if !ok || v.Type != "home" {
		t.Fatalf("home view %+v, %v", v, ok)
	}
	if _, err := s.AppHomeOpened(ctx, "U1"); err != nil {
		t.Fatal(err)
	}
	if second := <-opened; second.View == nil || second.View.ID != v.ID || second.View.Type != slack.VTHomeTab {
		t.Fatalf("second app_home_opened view %+v, want the published one %s", second.View, v.ID)
	}
}
