package bot

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
)

// checkBlocks reports every way blocks break Block Kit's limits.
func checkBlocks(t *testing.T, what string, blocks []slack.Block, maxBlocks int) {
	t.Helper()
	if len(blocks) > maxBlocks {
		t.Errorf("%s: %d blocks, Slack allows %d", what, len(blocks), maxBlocks)
	}
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	textLen := func(v any) int {
		m, _ := v.(map[string]any)
		s, _ := m["text"].(string)
		return utf8.RuneCountInString(s)
	}
	var walk func(p string, v any)
	walk = func(p string, v any) {
		switch x := v.(type) {
		case map[string]any:
			switch x["type"] {
			case "section":
				if n := textLen(x["text"]); n > maxSectionText {
					t.Errorf("%s%s: section text of %d characters", what, p, n)
				}
				if f, _ := x["fields"].([]any); len(f) > maxFields {
					t.Errorf("%s%s: %d fields", what, p, len(f))
				}
				for _, f := range x["fields"].([]any) {
					if n := textLen(f); n > maxFieldText {
						t.Errorf("%s%s: field of %d characters", what, p, n)
					}
				}
			case "header":
				if n := textLen(x["text"]); n > maxHeaderText {
					t.Errorf("%s%s: header of %d characters", what, p, n)
				}
			case "context":
				if e, _ := x["elements"].([]any); len(e) > maxContextItems {
					t.Errorf("%s%s: %d context elements", what, p, len(e))
				}
			case "button":
				if n := textLen(x["text"]); n > maxButtonText {
					t.Errorf("%s%s: button text of %d characters", what, p, n)
				}
			}
			for k, y := range x {
				walk(p+"/"+k, y)
			}
		case []any:
			for i, y := range x {
				walk(fmt.Sprintf("%s/%d", p, i), y)
			}
		}
	}
	walk("", list)
}

// worst is the longest hostile name: every character escapes to five.
var worst = strings.Repeat("&", domain.MaxNameLength)

func worstPasswords(n int) []domain.Password {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var ps []domain.Password
	for i := range n {
		ps = append(ps, domain.Password{KeyID: fmt.Sprint("key-", i), Name: worst, Hint: "<&>", Created: now, Expires: now, LastUsed: &now})
	}
	return ps
}

func TestRenderersFitBlockKitWhateverTheInput(t *testing.T) {
	reason := strings.Repeat("&", 1000)
	req := domain.RevocationRequest{ID: 7, RequesterSlack: "UADAM", Targets: []domain.RevocationTarget{{Slack: "UALICE", ID: "alice", Name: strings.Repeat("<", 113)}},
		Reason: reason, DenyReason: reason, DecidedSlack: "UHANA", All: true}
	for _, p := range worstPasswords(60) {
		req.Items = append(req.Items, domain.RevocationItem{TargetID: "alice", Password: p, Outcome: domain.OutcomeRemoved})
	}
	// 50 people with 40 passwords each, as the most one request can hold.
	several := req
	several.Targets, several.Items = nil, nil
	for i := range domain.MaxRevocationTargets {
		id := fmt.Sprint("p", i)
		several.Targets = append(several.Targets, domain.RevocationTarget{Slack: "U" + id, ID: id, Name: strings.Repeat("<", 100) + id})
		for _, p := range worstPasswords(40) {
			p.KeyID += id
			several.Items = append(several.Items, domain.RevocationItem{TargetID: id, Password: p, Outcome: "failed: " + reason})
		}
	}
	for _, st := range []domain.RevocationStatus{domain.RevocationPending, domain.RevocationApproving, domain.RevocationDone,
		domain.RevocationPartial, domain.RevocationDenied, domain.RevocationExpired, domain.RevocationCancelled} {
		for _, r := range []domain.RevocationRequest{req, several} {
			r.Status = st
			what := fmt.Sprintf("request message for %d (%s)", len(r.Targets), st)
			_, blocks := requestMessage(r)
			checkBlocks(t, what, blocks, maxMessageBlocks)
			if raw, _ := json.Marshal(blocks); !strings.Contains(string(raw), "…and") {
				t.Errorf("%s does not say rows were left out", what)
			}
		}
	}
	dm, _ := revokedDM(req, "alice")
	checkBlocks(t, "revocation DM", []slack.Block{section(dm)}, maxMessageBlocks)
	if utf8.RuneCountInString(dm) > maxSectionText || !strings.Contains(dm, "…and") || !strings.Contains(dm, "Devices using them") {
		t.Errorf("revocation DM of %d characters, or without its \"…and N more\" and ending:\n%s", utf8.RuneCountInString(dm), dm)
	}
	checkBlocks(t, "listing", listingBlocks(handlers.Listing{Passwords: worstPasswords(200), Max: 200}, strings.Repeat("&", 4000)), maxMessageBlocks)
	_, notice := noticeMessage(domain.Notice{Kind: domain.NoticeStale, Passwords: worstPasswords(120), More: 3})
	checkBlocks(t, "notice", notice, maxMessageBlocks)
	r := domain.Report{Max: 40, WarnAt: 35}
	for i := range 500 {
		r.NearLimit = append(r.NearLimit, domain.HolderCount{Name: strings.Repeat("<", 200) + fmt.Sprint(i), Held: 40})
	}
	_, report := reportMessage(r)
	checkBlocks(t, "report", report, maxMessageBlocks)
	checkBlocks(t, "secret", secretReply(domain.Created{Password: domain.Password{Name: worst}, Secret: domain.NewSecret("x")}, Gateway{Hostname: strings.Repeat("h", 253), SubmissionAddr: ":587", TLSAddr: ":465"}, strings.Repeat("&", 300)).Blocks, maxMessageBlocks)
	var many []slack.Block
	for range 120 {
		many = append(many, section("x"))
	}
	checkBlocks(t, "fitted message", fitBlocks(many, maxMessageBlocks), maxMessageBlocks)
	checkBlocks(t, "fitted view", fitBlocks(many, maxViewBlocks), maxViewBlocks)
}

func TestClipNeverCutsAnEscape(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short", "abc", 5, "abc"},
		{"plain cut", "abcdef", 4, "abc…"},
		{"inside &amp;", "ab&amp;cd", 6, "ab…"},
		{"after &amp;", "ab&amp;cd", 9, "ab&amp;cd"},
		{"just after ;", "ab&amp;cdef", 9, "ab&amp;c…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clip(tt.in, tt.n); got != tt.want {
				t.Errorf("clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

func TestJoinRowsSaysHowManyAreLeftOut(t *testing.T) {
	rows := []string{"aaaa", "bbbb", "cccc", "dddd"}
	got := joinRows(rows, 20, andMore)
	if utf8.RuneCountInString(got) > 20 || !strings.HasSuffix(got, "…and 3 more") && !strings.HasSuffix(got, "…and 2 more") {
		t.Errorf("joinRows = %q", got)
	}
	if got := joinRows(rows, 100, andMore); got != "aaaa\nbbbb\ncccc\ndddd" {
		t.Errorf("joinRows with room = %q", got)
	}
}
