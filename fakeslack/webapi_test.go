package fakeslack_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/apppass/apppass/fakeslack"
)

func slackErr(t *testing.T, err error) string {
	t.Helper()
	var e slack.SlackErrorResponse
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a Slack error response", err, err)
	}
	return e.Err
}

func TestAuth(t *testing.T) {
	s := fakeslack.New(t)
	resp, err := newAPI(s).AuthTest()
	if err != nil || resp.UserID != fakeslack.BotUserID || resp.TeamID != fakeslack.TeamID {
		t.Fatalf("auth.test = %+v, %v", resp, err)
	}
	_, err = slack.New("xoxb-wrong", slack.OptionAPIURL(s.APIURL())).AuthTest()
	if got := slackErr(t, err); got != "invalid_auth" {
		t.Fatalf("wrong token: %q", got)
	}
	_, err = slack.New(fakeslack.AppToken, slack.OptionAPIURL(s.APIURL())).AuthTest()
	if got := slackErr(t, err); got != "not_allowed_token_type" {
		t.Fatalf("app token on auth.test: %q", got)
	}
	if n := len(s.CallsTo("auth.test")); n != 3 {
		t.Fatalf("recorded %d auth.test calls", n)
	}
}

func TestUnknownMethodIsRecorded(t *testing.T) {
	s := fakeslack.New(t)
	resp, err := http.PostForm(s.APIURL()+"reactions.add", url.Values{"token": {fakeslack.BotToken}, "name": {"tada"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if !strings.Contains(string(body), `"error":"unknown_method"`) {
		t.Fatalf("body = %s", body)
	}
	calls := s.CallsTo("reactions.add")
	if len(calls) != 1 || calls[0].Params["name"] != "tada" {
		t.Fatalf("calls = %+v", calls)
	}
}

func TestRateLimitSurfacesAsRateLimitedError(t *testing.T) {
	s := fakeslack.New(t)
	s.AddChannel("C1")
	api := newAPI(s)
	s.RateLimit("chat.postMessage", 1, 7)
	_, _, err := api.PostMessage("C1", slack.MsgOptionText("hi", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
		t.Fatalf("err = %v, want RateLimitedError after 7s", err)
	}
	if _, _, err := api.PostMessage("C1", slack.MsgOptionText("hi", false)); err != nil {
		t.Fatalf("second post: %v", err)
	}
	if n := len(s.MessagesIn("C1")); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
}

func TestFailMethodAndLatency(t *testing.T) {
	s := fakeslack.New(t)
	api := newAPI(s)
	s.FailMethod("auth.test", "account_inactive", 2)
	for range 2 {
		if _, err := api.AuthTest(); slackErr(t, err) != "account_inactive" {
			t.Fatalf("err = %v", err)
		}
	}
	s.SetAPILatency(100 * time.Millisecond)
	start := time.Now()
	if _, err := api.AuthTest(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("answered after %v despite latency", d)
	}
	s.SetAPILatency(0)
	s.FailMethod("auth.test", "fatal_error", -1)
	s.FailMethod("auth.test", "", 0)
	if _, err := api.AuthTest(); err != nil {
		t.Fatalf("after clearing: %v", err)
	}
}

func TestUsers(t *testing.T) {
	s := fakeslack.New(t)
	for _, u := range []fakeslack.User{
		{ID: "U1", Name: "alice", RealName: "Alice A", Email: "alice@example.com", TZ: "Europe/Berlin"},
		{ID: "U2", Name: "bob", Email: "bob@example.com", Deleted: true},
		{ID: "U3", Name: "carol", Email: "carol@example.com"},
		{ID: "U4", Name: "dave", Email: "dave@example.com"},
		{ID: "U5", Name: "erin", IsBot: true},
	} {
		s.AddUser(u)
	}
	api := newAPI(s)
	ctx := context.Background()

	var pages [][]string
	p := api.GetUsersPaginated(slack.GetUsersOptionLimit(2))
	var err error
	for {
		if p, err = p.Next(ctx); err != nil {
			break
		}
		var ids []string
		for _, u := range p.Users {
			ids = append(ids, u.ID)
		}
		pages = append(pages, ids)
	}
	if err = p.Failure(err); err != nil {
		t.Fatal(err)
	}
	want := "[[UBOT U1] [U2 U3] [U4 U5]]"
	if got := fmt.Sprint(pages); got != want {
		t.Fatalf("pages = %s, want %s", got, want)
	}
	calls := s.CallsTo("users.list")
	if len(calls) != 3 || calls[0].Params["limit"] != "2" || calls[1].Params["cursor"] == "" {
		t.Fatalf("users.list calls = %+v", calls)
	}

	all, err := api.GetUsers()
	if err != nil || len(all) != 6 {
		t.Fatalf("GetUsers = %d users, %v", len(all), err)
	}

	u, err := api.GetUserInfo("U1")
	if err != nil || u.Profile.Email != "alice@example.com" || u.RealName != "Alice A" || u.TZ != "Europe/Berlin" || u.Deleted {
		t.Fatalf("users.info = %+v, %v", u, err)
	}
	if u, err = api.GetUserInfo("U2"); err != nil || !u.Deleted {
		t.Fatalf("deleted user = %+v, %v", u, err)
	}
	if _, err = api.GetUserInfo("U404"); slackErr(t, err) != "user_not_found" {
		t.Fatalf("unknown user: %v", err)
	}
	if u, err = api.GetUserByEmail("CAROL@example.com"); err != nil || u.ID != "U3" {
		t.Fatalf("lookupByEmail = %+v, %v", u, err)
	}
	if _, err = api.GetUserByEmail("bob@example.com"); slackErr(t, err) != "users_not_found" {
		t.Fatalf("deactivated lookup: %v", err)
	}
}
