package app

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeslack"
	"github.com/apppass/apppass/internal/testkit"
)

// The people of the end-to-end tests.
const (
	alice   = "UALICE" // an employee
	bob     = "UBOB"   // another employee
	dave    = "UDAVE"  // disabled in Entra
	erin    = "UERIN"  // Slack email unknown to Entra
	nomail  = "UNOMAIL"
	adam    = "UADAM"  // admin
	hana    = "UHANA"  // helpdesk
	hugo    = "UHUGO"  // helpdesk
	holly   = "UHOLLY" // admin and helpdesk
	channel = "CGENERAL"

	adminGroup    = "22222222-0000-0000-0000-0000000000ad"
	helpdeskGroup = "22222222-0000-0000-0000-0000000000fd"
	helpdesk      = "CHELPDESK"
)

// harness runs apppass's real wiring (Main.Run) against the Slack and
// Entra fakes, through the real slack-go and msgraph-sdk-go clients.
type harness struct {
	t      testing.TB
	slack  *fakeslack.Server
	entra  *fakeentra.Server
	env    map[string]string
	logs   *syncBuffer
	dbPath string
	app    *App
	clock  *testkit.WallClock
	cancel context.CancelFunc
	done   chan error
	// adjust, when set, changes the Main that start runs.
	adjust func(*Main)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{t: t, slack: fakeslack.New(t), entra: fakeentra.New(t), logs: &syncBuffer{}}
	for _, u := range []struct {
		slack, name, email, entra string
		enabled                   bool
	}{
		{alice, "alice", "alice@example.test", "11111111-0000-0000-0000-00000000000a", true},
		{bob, "bob", "bob@example.test", "11111111-0000-0000-0000-00000000000b", true},
		{dave, "dave", "dave@example.test", "11111111-0000-0000-0000-00000000000d", false},
		{adam, "adam", "adam@example.test", "11111111-0000-0000-0000-0000000000a1", true},
		{hana, "hana", "hana@example.test", "11111111-0000-0000-0000-0000000000b1", true},
		{hugo, "hugo", "hugo@example.test", "11111111-0000-0000-0000-0000000000b2", true},
		{holly, "holly", "holly@example.test", "11111111-0000-0000-0000-0000000000c1", true},
	} {
		h.slack.AddUser(fakeslack.User{ID: u.slack, Name: u.name, RealName: strings.ToUpper(u.name[:1]) + u.name[1:], Email: u.email})
		h.entra.AddUser(fakeentra.User{ID: u.entra, DisplayName: u.name, UserPrincipalName: u.email, Mail: u.email, AccountEnabled: u.enabled})
	}
	h.entra.AddGroupMember(adminGroup, entraID(adam))
	h.entra.AddGroupMember(adminGroup, entraID(holly))
	h.entra.AddGroupMember(helpdeskGroup, entraID(hana))
	h.entra.AddGroupMember(helpdeskGroup, entraID(hugo))
	h.entra.AddGroupMember(helpdeskGroup, entraID(holly))
	h.slack.AddUser(fakeslack.User{ID: erin, Name: "erin", Email: "erin@elsewhere.test"})
	h.slack.AddUser(fakeslack.User{ID: nomail, Name: "nomail"})
	h.slack.AddChannel(channel)
	h.slack.AddChannel(helpdesk)
	h.clock = &testkit.WallClock{}
	h.dbPath = filepath.Join(t.TempDir(), "apppass.db")
	h.env = map[string]string{
		"SLACK_APP_TOKEN": fakeslack.AppToken, "SLACK_BOT_TOKEN": fakeslack.BotToken, "SLACK_API_URL": h.slack.APIURL(),
		"AZURE_TENANT_ID": fakeentra.TenantID, "AZURE_CLIENT_ID": fakeentra.ClientID, "AZURE_CLIENT_SECRET": fakeentra.ClientSecret,
		"AZURE_AUTHORITY_HOST": h.entra.AuthorityHost(), "GRAPH_BASE_URL": h.entra.GraphBaseURL(),
		"APPPASS_DB": h.dbPath, "APPPASS_HELPDESK_CHANNEL": helpdesk, "APPPASS_SLACK_TEAM": fakeslack.TeamID,
		"APPPASS_ADMIN_GROUP": adminGroup, "APPPASS_HELPDESK_GROUP": helpdeskGroup,
		"APPPASS_HTTP_ADDR": "127.0.0.1:0",
	}
	return h
}

func entraID(slackID string) string {
	return map[string]string{alice: "11111111-0000-0000-0000-00000000000a", bob: "11111111-0000-0000-0000-00000000000b",
		dave: "11111111-0000-0000-0000-00000000000d", adam: "11111111-0000-0000-0000-0000000000a1",
		hana: "11111111-0000-0000-0000-0000000000b1", hugo: "11111111-0000-0000-0000-0000000000b2",
		holly: "11111111-0000-0000-0000-0000000000c1"}[slackID]
}

// newMain builds the Main that `apppass serve` and `apppass job …` use,
// pointed at the fakes, logging at debug level into h.logs.
func (h *harness) newMain() *Main {
	h.t.Helper()
	m, err := NewMain(func(k string) string { return h.env[k] }, slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		h.t.Fatal(err)
	}
	m.GraphTransport = h.entra.Client().Transport
	m.Now = h.clock.Now
	return m
}

// start runs apppass until the test ends (or stop is called).
func (h *harness) start() *harness {
	h.t.Helper()
	m := h.newMain()
	m.Config.BackgroundInterval = 200 * time.Millisecond
	if h.adjust != nil {
		h.adjust(m)
	}
	ready := make(chan *App, 1)
	m.Ready = func(a *App) { ready <- a }
	// Counted before Run: the bot may connect before Ready's receiver runs.
	conns := h.slack.Connections()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- m.Run(ctx) }()
	select {
	case h.app = <-ready:
	case err := <-h.done:
		h.t.Fatalf("apppass did not start: %v", err)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := h.slack.WaitConnections(wctx, conns+1); err != nil {
		h.t.Fatalf("apppass did not connect to Slack: %v", err)
	}
	h.t.Cleanup(func() { h.stop() })
	return h
}

func (h *harness) stop() error {
	if h.cancel == nil {
		return nil
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		return err
	case <-time.After(30 * time.Second):
		h.t.Error("apppass did not stop within 30s")
		return nil
	}
}

func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	h.t.Cleanup(cancel)
	return ctx
}

// command types /apppass text as user and returns the interaction.
func (h *harness) command(user, text string) *fakeslack.Interaction {
	h.t.Helper()
	ix, err := h.slack.SlashCommand(h.ctx(), user, channel, "/apppass", text)
	if err != nil {
		h.t.Fatalf("/apppass %s: %v", text, err)
	}
	return ix
}

// reply waits for the n-th (1-based) message written through ix's
// response URL, or in the channel ephemerally to its user.
func (h *harness) reply(ix *fakeslack.Interaction) fakeslack.Message {
	h.t.Helper()
	if len(ix.AckPayload) > 0 {
		// Answered at once, in the ack (bad input).
		var p struct {
			Text string `json:"text"`
		}
		if json.Unmarshal(ix.AckPayload, &p) == nil && p.Text != "" {
			return fakeslack.Message{Text: p.Text, Ephemeral: true, Via: fakeslack.ViaAck, Raw: ix.AckPayload}
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range h.slack.Messages() {
			if m.ResponseURL == ix.ResponseID && ix.ResponseID != "" {
				return m
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("no reply to interaction %s; calls: %s", ix.EnvelopeID, h.callSummary())
	return fakeslack.Message{}
}

// ask runs a command and returns the text (and blocks) of its reply.
func (h *harness) ask(user, text string) string {
	h.t.Helper()
	return messageText(h.reply(h.command(user, text)))
}

func (h *harness) callSummary() string {
	var b strings.Builder
	for _, c := range h.slack.Calls() {
		b.WriteString(c.Kind + ":" + c.Method + " ")
	}
	return b.String()
}

// messageText is a message's text and the text of all its blocks.
func messageText(m fakeslack.Message) string {
	var out strings.Builder
	out.WriteString(m.Text)
	eachBlockObject(m, func(x map[string]any) {
		if s, ok := x["text"].(string); ok {
			out.WriteString("\n" + s)
		}
	})
	return out.String()
}

// eachBlockObject calls visit with every JSON object in m's blocks, each
// before the objects inside it.
func eachBlockObject(m fakeslack.Message, visit func(map[string]any)) {
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			visit(x)
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	var blocks any
	if json.Unmarshal(m.Blocks, &blocks) == nil {
		walk(blocks)
	}
}

// buttons returns action_id -> values of the buttons in a message.
func buttons(m fakeslack.Message) map[string][]string {
	out := map[string][]string{}
	eachBlockObject(m, func(x map[string]any) {
		if x["type"] == "button" {
			id, _ := x["action_id"].(string)
			val, _ := x["value"].(string)
			out[id] = append(out[id], val)
		}
	})
	return out
}

// click presses a button in an ephemeral message as user.
func (h *harness) click(user, actionID, value string) *fakeslack.Interaction {
	h.t.Helper()
	ix, err := h.slack.BlockAction(h.ctx(), user, fakeslack.Action{ChannelID: channel, ActionID: actionID, Value: value, Ephemeral: true})
	if err != nil {
		h.t.Fatalf("click %s: %v", actionID, err)
	}
	return ix
}

// secretIn returns the first secret the fake issued that appears in s.
func (h *harness) secretIn(s string) string {
	for _, secret := range h.entra.IssuedSecrets() {
		if strings.Contains(s, secret) {
			return secret
		}
	}
	return ""
}

// assertNoLeaks searches every Slack call but the ephemeral messages
// that delivered a secret to its creator, the logs and the database files
// for every secret Entra issued.
func (h *harness) assertNoLeaks(allowed map[string]bool) {
	h.t.Helper()
	secrets := h.entra.IssuedSecrets()
	if len(secrets) == 0 {
		return
	}
	// Attempts: only ever ephemeral, to the creator.
	for _, c := range h.slack.Calls() {
		for _, s := range secrets {
			if !bytes.Contains(c.Body, []byte(s)) {
				continue
			}
			ephemeral := (c.Kind == fakeslack.KindResponseURL && strings.Contains(string(c.Body), `"ephemeral"`)) ||
				(c.Kind == fakeslack.KindAPI && c.Method == "chat.postEphemeral")
			if !ephemeral {
				h.t.Errorf("secret leaked in Slack %s %s", c.Kind, c.Method)
			}
		}
	}
	// Deliveries that Slack accepted: each secret at most once.
	delivered := map[string]int{}
	for _, m := range h.slack.Messages() {
		for _, s := range secrets {
			if bytes.Contains(m.Raw, []byte(s)) {
				delivered[s]++
				if !m.Ephemeral && m.Via != fakeslack.ViaResponseURL {
					h.t.Errorf("secret in a non-ephemeral message via %s", m.Via)
				}
			}
		}
	}
	for s, n := range delivered {
		if n > 1 {
			h.t.Errorf("a secret was shown %d times; it must be shown once", n)
		}
		if allowed != nil && !allowed[s] {
			h.t.Errorf("a secret that should not have been delivered was")
		}
	}
	for _, v := range h.slack.OpenedViews() {
		for _, s := range secrets {
			if strings.Contains(string(v.Raw), s) {
				h.t.Errorf("secret in a view")
			}
		}
	}
	logs := h.logs.String()
	for _, token := range []string{fakeslack.BotToken, fakeslack.AppToken, fakeentra.ClientSecret} {
		if strings.Contains(logs, token) {
			h.t.Errorf("a configured token or client secret is in the logs")
		}
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			h.t.Errorf("secret leaked in the logs")
		}
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(h.dbPath + suffix)
		if err != nil {
			continue
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				h.t.Errorf("secret stored in the database file %s", filepath.Base(h.dbPath+suffix))
			}
		}
	}
}
