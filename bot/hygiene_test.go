package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/bot"
	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeslack"
	"github.com/apppass/apppass/internal/testkit"
)

// mustJobSlack returns the Slack client talking to fake through the real
// slack-go client, and the waits it asks for.
func mustJobSlack(tb testing.TB, fake *fakeslack.Server) (*bot.Slack, *testkit.Sleeps) {
	tb.Helper()
	s := bot.NewSlack(bot.Config{BotToken: domain.NewSecret(fakeslack.BotToken), APIURL: fake.APIURL()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w := &testkit.Sleeps{}
	s.Sleep = w.Sleep
	return s, w
}

func TestSlackUsersByEmailIsOnePagedListing(t *testing.T) {
	fake := fakeslack.New(t)
	for i := range 450 {
		fake.AddUser(fakeslack.User{ID: fmt.Sprintf("U%03d", i), Name: fmt.Sprint("u", i), Email: fmt.Sprintf("u%d@example.test", i)})
	}
	fake.AddUser(fakeslack.User{ID: "UMIXED", Name: "mixed", Email: " Mixed.Case@Example.TEST "})
	fake.AddUser(fakeslack.User{ID: "UGONE", Name: "gone", Email: "gone@example.test", Deleted: true})
	fake.AddUser(fakeslack.User{ID: "UROBOT", Name: "robot", Email: "robot@example.test", IsBot: true})
	fake.AddUser(fakeslack.User{ID: "UNOMAIL", Name: "nomail"})
	fake.RateLimit("users.list", 2, 3)
	s, waited := mustJobSlack(t, fake)

	got, err := s.SlackUsersByEmail(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 451 || got["u0@example.test"] != "U000" || got["u449@example.test"] != "U449" || got["mixed.case@example.test"] != "UMIXED" {
		t.Errorf("index has %d people; u0=%q u449=%q mixed=%q", len(got), got["u0@example.test"], got["u449@example.test"], got["mixed.case@example.test"])
	}
	for _, left := range []string{"gone@example.test", "robot@example.test", ""} {
		if id, ok := got[left]; ok {
			t.Errorf("%q is indexed as %s", left, id)
		}
	}
	var methods []string
	for _, c := range fake.Calls() {
		methods = append(methods, c.Method)
	}
	// 455 members in pages of 200, and the two 429s asked again.
	if want := slices.Repeat([]string{"users.list"}, 5); !slices.Equal(methods, want) {
		t.Errorf("calls = %v, want %v", methods, want)
	}
	if w := waited.All(); !slices.Equal(w, []time.Duration{3 * time.Second, 3 * time.Second}) {
		t.Errorf("waits = %v, want two of Retry-After 3s", w)
	}
}

func TestNoticeIsADMWithDeleteButtons(t *testing.T) {
	fake := fakeslack.New(t)
	fake.AddUser(fakeslack.User{ID: "U1", Name: "alice", Email: "alice@example.test"})
	s, _ := mustJobSlack(t, fake)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	used := now.AddDate(0, -4, 0)
	ps := []domain.Password{
		{KeyID: "k-1", Name: "<!channel> & friends", Hint: "a<b", Created: now.AddDate(-1, 0, 0), Expires: now.Add(5 * 24 * time.Hour), LastUsed: &used},
		{KeyID: "k-2", Name: "iPhone", Hint: "xyz", Created: now.AddDate(0, -7, 0), Expires: now.Add(13 * 24 * time.Hour)},
	}
	notices := []struct {
		n    domain.Notice
		want []string
	}{
		{domain.Notice{Kind: domain.NoticeLimit, At: now, Held: 37, Max: 40, Passwords: ps, More: 35}, []string{"*37 of 40*", "…and 35 more"}},
		{domain.Notice{Kind: domain.NoticeStale, At: now, Held: 2, Max: 40, Passwords: ps, StaleAfter: 180 * 24 * time.Hour, UnusedAfter: 90 * 24 * time.Hour, LastUseKnown: true},
			[]string{"180 or more days ago", "not used for 90 days", "never used", "last used 2 Nov 2025"}},
		{domain.Notice{Kind: domain.NoticeExpiry, At: now, Held: 2, Max: 40, Passwords: ps, ExpiryWarning: 14 * 24 * time.Hour}, []string{"within 14 days", "*in 5 days*", "*in 13 days*"}},
	}
	for _, tt := range notices {
		if err := s.SendNotice(context.Background(), "U1", tt.n); err != nil {
			t.Fatalf("%s: %v", tt.n.Kind, err)
		}
	}
	dms := fake.DMsTo("U1")
	if len(dms) != len(notices) {
		t.Fatalf("%d DMs, want %d", len(dms), len(notices))
	}
	for i, m := range dms {
		kind := notices[i].n.Kind
		body := blockText(t, m)
		for _, w := range notices[i].want {
			if !strings.Contains(body, w) {
				t.Errorf("%s notice lacks %q: %s", kind, w, body)
			}
		}
		if strings.Contains(body, "<!channel>") || strings.Contains(m.Text, "<!channel>") || !strings.Contains(body, "&lt;!channel&gt; &amp; friends") {
			t.Errorf("%s notice: a password name is not escaped: %s", kind, body)
		}
		if got := deleteButtons(t, m); !slices.Equal(got, []string{"k-1", "k-2"}) {
			t.Errorf("%s notice: Delete buttons for %v, want k-1 and k-2", kind, got)
		}
	}
}

func TestFanOutWaitsOutRateLimits(t *testing.T) {
	fake := fakeslack.New(t)
	for i := range 10 {
		fake.AddUser(fakeslack.User{ID: fmt.Sprint("U", i), Name: fmt.Sprint("u", i), Email: fmt.Sprintf("u%d@example.test", i)})
	}
	fake.RateLimit("chat.postMessage", 5, 2)
	s, waited := mustJobSlack(t, fake)
	n := domain.Notice{Kind: domain.NoticeLimit, Held: 35, Max: 40, Passwords: []domain.Password{{KeyID: "k", Name: "x"}}}
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.SendNotice(context.Background(), fmt.Sprint("U", i), n); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range 10 {
		if got := len(fake.DMsTo(fmt.Sprint("U", i))); got != 1 {
			t.Errorf("U%d got %d DMs, want 1", i, got)
		}
	}
	if w := waited.All(); len(w) != 5 || w[0] != 2*time.Second {
		t.Errorf("waits = %v, want five of 2s", w)
	}
}

func TestNoticeGivesUpWhenSlackKeepsThrottling(t *testing.T) {
	fake := fakeslack.New(t)
	fake.AddUser(fakeslack.User{ID: "U1", Name: "alice", Email: "alice@example.test"})
	fake.RateLimit("chat.postMessage", -1, 1)
	s, waited := mustJobSlack(t, fake)
	err := s.SendNotice(context.Background(), "U1", domain.Notice{Kind: domain.NoticeLimit, Held: 35, Max: 40})
	if err == nil || len(waited.All()) != 8 {
		t.Fatalf("err = %v after %d waits; want an error after 8", err, len(waited.All()))
	}
}

func TestReportIsPostedToTheChannel(t *testing.T) {
	fake := fakeslack.New(t)
	fake.AddChannel("CREPORT")
	s, _ := mustJobSlack(t, fake)
	at := time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)
	r := domain.Report{
		At: at, Since: at.AddDate(0, 0, -7), Holders: 120, Passwords: 845, WarnAt: 35, Max: 40,
		Stale: 40, Expired: 3, ExpiringSoon: 5, Unreachable: 2, Created: 12, Deleted: 20, Revoked: 1, PendingRevocations: 2,
		StaleAfter: 180 * 24 * time.Hour, UnusedAfter: 90 * 24 * time.Hour, ExpiryWarning: 14 * 24 * time.Hour, LastUseKnown: true,
		Previous: domain.Counts{domain.FigureHolders: 117, domain.FigurePasswords: 857},
	}
	r.Distribution = []domain.Bucket{{Min: 0, Max: 9, Holders: 100}, {Min: 10, Max: 19, Holders: 15}, {Min: 20, Max: 34, Holders: 3}, {Min: 35, Max: 40, Holders: 2}}
	for i := range 60 {
		r.NearLimit = append(r.NearLimit, domain.HolderCount{Name: fmt.Sprintf("<@U%d>@example.test", i), Held: 40 - i%6})
	}
	if err := s.PostReport(context.Background(), "CREPORT", r); err != nil {
		t.Fatal(err)
	}
	msgs := fake.MessagesIn("CREPORT")
	if len(msgs) != 1 {
		t.Fatalf("%d messages in the report channel, want 1", len(msgs))
	}
	body := blockText(t, msgs[0])
	for _, w := range []string{"App password hygiene — 9 Mar 2026", "*Holders*\n120 (+3)", "*App passwords*\n845 (-12)", "*Stale*\n40",
		"*Expired*\n3", "not found in Slack*\n2", "0–9: *100*", "35–40: *2*", "*Since 2 Mar 2026:* 12 created · 20 deleted · 1 revoked",
		"pending:* 2", "within 14 days:* 5", "&lt;@U0&gt;@example.test (40)", "and 20 more", "unused for 90+ days"} {
		if !strings.Contains(body, w) {
			t.Errorf("report lacks %q: %s", w, body)
		}
	}
	if strings.Contains(body, "<@U") {
		t.Errorf("a name can mention someone: %s", body)
	}
}

// blockText returns every text in m's blocks, one per line, as Slack
// shows them (JSON-decoded).
func blockText(t *testing.T, m fakeslack.Message) string {
	t.Helper()
	var blocks any
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if s, ok := x["text"].(string); ok {
				out.WriteString(s + "\n")
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(blocks)
	return out.String()
}

// deleteButtons returns the values of the delete_ask buttons in m.
func deleteButtons(t *testing.T, m fakeslack.Message) []string {
	t.Helper()
	var blocks []struct {
		Accessory *struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"accessory"`
	}
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range blocks {
		if b.Accessory != nil && b.Accessory.ActionID == "delete_ask" {
			out = append(out, b.Accessory.Value)
		}
	}
	return out
}
