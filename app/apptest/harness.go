// Package apptest runs apppass's real wiring (app.Main) against the
// Slack and Entra fakes, through the real slack-go and msgraph-sdk-go
// clients, for the whole-system tests of package app and of bot/. Its
// helpers wait for what happened (a reply, a message, a recorded call)
// with one polling helper, never for time to pass.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apppass/apppass/app"
	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeslack"
	"github.com/apppass/apppass/internal/testkit"
	"github.com/apppass/apppass/metrics"
)

// The people of the end-to-end tests.
const (
	Alice   = "UALICE" // an employee
	Bob     = "UBOB"   // another employee
	Dave    = "UDAVE"  // disabled in Entra
	Erin    = "UERIN"  // Slack email unknown to Entra
	Nomail  = "UNOMAIL"
	Adam    = "UADAM"  // admin
	Hana    = "UHANA"  // Helpdesk
	Hugo    = "UHUGO"  // Helpdesk
	Holly   = "UHOLLY" // admin and Helpdesk
	Channel = "CGENERAL"

	AdminGroup    = "22222222-0000-0000-0000-0000000000ad"
	HelpdeskGroup = "22222222-0000-0000-0000-0000000000fd"
	Helpdesk      = "CHELPDESK"
)

// Harness runs apppass's real wiring (app.Main.Run) against the Slack
// and Entra fakes, through the real slack-go and msgraph-sdk-go clients.
// Change Env, the fakes or Adjust before Start.
type Harness struct {
	T      testing.TB
	Slack  *fakeslack.Server
	Entra  *fakeentra.Server
	Env    map[string]string
	Logs   *SyncBuffer
	DBPath string
	// App is the running apppass's parts, once Start returned.
	App   *app.App
	Clock *testkit.WallClock
	// Adjust, when set, changes the Main that Start runs.
	Adjust func(*app.Main)

	cancel context.CancelFunc
	done   chan error
	events events
}

type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func NewHarness(t testing.TB) *Harness {
	t.Helper()
	h := &Harness{T: t, Slack: fakeslack.New(t), Entra: fakeentra.New(t), Logs: &SyncBuffer{}}
	for _, u := range []struct {
		slack, name, email, entra string
		enabled                   bool
	}{
		{Alice, "alice", "alice@example.test", "11111111-0000-0000-0000-00000000000a", true},
		{Bob, "bob", "bob@example.test", "11111111-0000-0000-0000-00000000000b", true},
		{Dave, "dave", "dave@example.test", "11111111-0000-0000-0000-00000000000d", false},
		{Adam, "adam", "adam@example.test", "11111111-0000-0000-0000-0000000000a1", true},
		{Hana, "hana", "hana@example.test", "11111111-0000-0000-0000-0000000000b1", true},
		{Hugo, "hugo", "hugo@example.test", "11111111-0000-0000-0000-0000000000b2", true},
		{Holly, "holly", "holly@example.test", "11111111-0000-0000-0000-0000000000c1", true},
	} {
		h.Slack.AddUser(fakeslack.User{ID: u.slack, Name: u.name, RealName: strings.ToUpper(u.name[:1]) + u.name[1:], Email: u.email})
		h.Entra.AddUser(fakeentra.User{ID: u.entra, DisplayName: u.name, UserPrincipalName: u.email, Mail: u.email, AccountEnabled: u.enabled})
	}
	h.Entra.AddGroupMember(AdminGroup, EntraID(Adam))
	h.Entra.AddGroupMember(AdminGroup, EntraID(Holly))
	h.Entra.AddGroupMember(HelpdeskGroup, EntraID(Hana))
	h.Entra.AddGroupMember(HelpdeskGroup, EntraID(Hugo))
	h.Entra.AddGroupMember(HelpdeskGroup, EntraID(Holly))
	h.Slack.AddUser(fakeslack.User{ID: Erin, Name: "erin", Email: "erin@elsewhere.test"})
	h.Slack.AddUser(fakeslack.User{ID: Nomail, Name: "nomail"})
	h.Slack.AddChannel(Channel)
	h.Slack.AddChannel(Helpdesk)
	h.Clock = &testkit.WallClock{}
	h.DBPath = filepath.Join(t.TempDir(), "apppass.db")
	h.Env = map[string]string{
		"SLACK_APP_TOKEN": fakeslack.AppToken, "SLACK_BOT_TOKEN": fakeslack.BotToken, "SLACK_API_URL": h.Slack.APIURL(),
		"AZURE_TENANT_ID": fakeentra.TenantID, "AZURE_CLIENT_ID": fakeentra.ClientID, "AZURE_CLIENT_SECRET": fakeentra.ClientSecret,
		"AZURE_AUTHORITY_HOST": h.Entra.AuthorityHost(), "GRAPH_BASE_URL": h.Entra.GraphBaseURL(),
		"APPPASS_DB": h.DBPath, "APPPASS_HELPDESK_CHANNEL": Helpdesk, "APPPASS_SLACK_TEAM": fakeslack.TeamID,
		"APPPASS_ADMIN_GROUP": AdminGroup, "APPPASS_HELPDESK_GROUP": HelpdeskGroup,
		"APPPASS_HTTP_ADDR": "127.0.0.1:0",
	}
	return h
}

func EntraID(slackID string) string {
	return map[string]string{Alice: "11111111-0000-0000-0000-00000000000a", Bob: "11111111-0000-0000-0000-00000000000b",
		Dave: "11111111-0000-0000-0000-00000000000d", Adam: "11111111-0000-0000-0000-0000000000a1",
		Hana: "11111111-0000-0000-0000-0000000000b1", Hugo: "11111111-0000-0000-0000-0000000000b2",
		Holly: "11111111-0000-0000-0000-0000000000c1"}[slackID]
}

// NewMain builds the app.Main that `apppass serve` and `apppass job …` use,
// pointed at the fakes, logging at debug level into h.Logs.
func (h *Harness) NewMain() *app.Main {
	h.T.Helper()
	m, err := app.NewMain(func(k string) string { return h.Env[k] }, slog.New(slog.NewJSONHandler(h.Logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		h.T.Fatal(err)
	}
	m.GraphTransport = h.Entra.Client().Transport
	m.Now = h.Clock.Now
	m.Metrics = metrics.New()
	m.Observer = &h.events
	h.events.add(m.Metrics)
	return m
}

// events counts what every apppass process this harness started has
// finished: commands, clicks and submissions (through the bot's
// Observer, passed on to the process's metrics), and job runs (read from
// each process's metrics). Tests wait on these instead of pausing.
type events struct {
	mu       sync.Mutex
	finished int
	all      []*metrics.Metrics
}

func (e *events) add(m *metrics.Metrics) {
	e.mu.Lock()
	e.all = append(e.all, m)
	e.mu.Unlock()
}

// CommandDone counts a finished command, click or submission and tells
// the metrics of the first process (the ones /metrics tests read).
func (e *events) CommandDone(verb, outcome string) {
	e.mu.Lock()
	e.finished++
	first := e.all[0]
	e.mu.Unlock()
	first.CommandDone(verb, outcome)
}

// Finished returns how many commands, clicks and form submissions the
// harness's processes have finished working on.
func (h *Harness) Finished() int {
	h.events.mu.Lock()
	defer h.events.mu.Unlock()
	return h.events.finished
}

// WaitFinished waits until n commands, clicks or submissions in all have
// been worked on to the end: what a click did, it has done.
func (h *Harness) WaitFinished(n int) {
	h.T.Helper()
	h.WaitFor(fmt.Sprintf("%d finished interactions", n), func() bool { return h.Finished() >= n })
}

// JobRuns returns how many runs of job the harness's processes have
// finished, whatever their outcome.
func (h *Harness) JobRuns(job string) int {
	h.events.mu.Lock()
	all := slices.Clone(h.events.all)
	h.events.mu.Unlock()
	n := 0
	for _, m := range all {
		families, err := m.Registry().Gather()
		if err != nil {
			h.T.Fatal(err)
		}
		for _, f := range families {
			if f.GetName() != "apppass_job_runs_total" {
				continue
			}
			for _, c := range f.GetMetric() {
				for _, l := range c.GetLabel() {
					if l.GetName() == "job" && l.GetValue() == job {
						n += int(c.GetCounter().GetValue())
					}
				}
			}
		}
	}
	return n
}

// WaitJobRuns waits until job has run n more times after the call, in
// any of the harness's processes: a background job has looked again.
func (h *Harness) WaitJobRuns(job string, n int) {
	h.T.Helper()
	want := h.JobRuns(job) + n
	h.WaitFor(fmt.Sprintf("%d more runs of %s", n, job), func() bool { return h.JobRuns(job) >= want })
}

// Start runs apppass until the test ends (or stop is called).
func (h *Harness) Start() *Harness {
	h.T.Helper()
	m := h.NewMain()
	m.Config.BackgroundInterval = 200 * time.Millisecond
	if h.Adjust != nil {
		h.Adjust(m)
	}
	ready := make(chan *app.App, 1)
	m.Ready = func(a *app.App) { ready <- a }
	// Counted before Run: the bot may connect before Ready's receiver runs.
	conns := h.Slack.Connections()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- m.Run(ctx) }()
	select {
	case h.App = <-ready:
	case err := <-h.done:
		h.T.Fatalf("apppass did not start: %v", err)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := h.Slack.WaitConnections(wctx, conns+1); err != nil {
		h.T.Fatalf("apppass did not connect to Slack: %v", err)
	}
	h.T.Cleanup(func() { h.Stop() })
	return h
}

func (h *Harness) Stop() error {
	if h.cancel == nil {
		return nil
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		return err
	case <-time.After(30 * time.Second):
		h.T.Error("apppass did not stop within 30s")
		return nil
	}
}

func (h *Harness) Ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	h.T.Cleanup(cancel)
	return ctx
}

// Command types /apppass text as user and returns the interaction.
func (h *Harness) Command(user, text string) *fakeslack.Interaction {
	h.T.Helper()
	ix, err := h.Slack.SlashCommand(h.Ctx(), user, Channel, "/apppass", text)
	if err != nil {
		h.T.Fatalf("/apppass %s: %v", text, err)
	}
	return ix
}

// Reply waits for the n-th (1-based) message written through ix's
// response URL, or in the Channel ephemerally to its user.
func (h *Harness) Reply(ix *fakeslack.Interaction) fakeslack.Message {
	h.T.Helper()
	if len(ix.AckPayload) > 0 {
		// Answered at once, in the ack (bad input).
		var p struct {
			Text string `json:"text"`
		}
		if json.Unmarshal(ix.AckPayload, &p) == nil && p.Text != "" {
			return fakeslack.Message{Text: p.Text, Ephemeral: true, Via: fakeslack.ViaAck, Raw: ix.AckPayload}
		}
	}
	var reply fakeslack.Message
	h.WaitFor("a reply to interaction "+ix.EnvelopeID, func() bool {
		for _, m := range h.Slack.Messages() {
			if m.ResponseURL == ix.ResponseID && ix.ResponseID != "" {
				reply = m
				return true
			}
		}
		return false
	})
	return reply
}

// Ask runs a command and returns the text (and blocks) of its reply.
func (h *Harness) Ask(user, text string) string {
	h.T.Helper()
	return MessageText(h.Reply(h.Command(user, text)))
}

func (h *Harness) CallSummary() string {
	var b strings.Builder
	for _, c := range h.Slack.Calls() {
		b.WriteString(c.Kind + ":" + c.Method + " ")
	}
	return b.String()
}

// MessageText is a message's text and the text of all its blocks.
func MessageText(m fakeslack.Message) string {
	var out strings.Builder
	out.WriteString(m.Text)
	EachBlockObject(m, func(x map[string]any) {
		if s, ok := x["text"].(string); ok {
			out.WriteString("\n" + s)
		}
	})
	return out.String()
}

// EachBlockObject calls visit with every JSON object in m's blocks, each
// before the objects inside it.
func EachBlockObject(m fakeslack.Message, visit func(map[string]any)) {
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

// Buttons returns action_id -> values of the buttons in a message.
func Buttons(m fakeslack.Message) map[string][]string {
	out := map[string][]string{}
	EachBlockObject(m, func(x map[string]any) {
		if x["type"] == "button" {
			id, _ := x["action_id"].(string)
			val, _ := x["value"].(string)
			out[id] = append(out[id], val)
		}
	})
	return out
}

// Click presses a button in an ephemeral message as user.
func (h *Harness) Click(user, actionID, value string) *fakeslack.Interaction {
	h.T.Helper()
	ix, err := h.Slack.BlockAction(h.Ctx(), user, fakeslack.Action{ChannelID: Channel, ActionID: actionID, Value: value, Ephemeral: true})
	if err != nil {
		h.T.Fatalf("click %s: %v", actionID, err)
	}
	return ix
}

// SecretIn returns the first secret the fake issued that appears in s.
func (h *Harness) SecretIn(s string) string {
	for _, secret := range h.Entra.IssuedSecrets() {
		if strings.Contains(s, secret) {
			return secret
		}
	}
	return ""
}

// AssertNoLeaks searches every Slack call but the ephemeral messages
// that delivered a secret to its creator, the logs and the database files
// for every secret Entra issued.
func (h *Harness) AssertNoLeaks(allowed map[string]bool) {
	h.T.Helper()
	secrets := h.Entra.IssuedSecrets()
	if len(secrets) == 0 {
		return
	}
	// Attempts: only ever ephemeral, to the creator.
	for _, c := range h.Slack.Calls() {
		for _, s := range secrets {
			if !bytes.Contains(c.Body, []byte(s)) {
				continue
			}
			ephemeral := (c.Kind == fakeslack.KindResponseURL && strings.Contains(string(c.Body), `"ephemeral"`)) ||
				(c.Kind == fakeslack.KindAPI && c.Method == "chat.postEphemeral")
			if !ephemeral {
				h.T.Errorf("secret leaked in Slack %s %s", c.Kind, c.Method)
			}
		}
	}
	// Deliveries that Slack accepted: each secret at most once.
	delivered := map[string]int{}
	for _, m := range h.Slack.Messages() {
		for _, s := range secrets {
			if bytes.Contains(m.Raw, []byte(s)) {
				delivered[s]++
				if !m.Ephemeral && m.Via != fakeslack.ViaResponseURL {
					h.T.Errorf("secret in a non-ephemeral message via %s", m.Via)
				}
			}
		}
	}
	for s, n := range delivered {
		if n > 1 {
			h.T.Errorf("a secret was shown %d times; it must be shown once", n)
		}
		if allowed != nil && !allowed[s] {
			h.T.Errorf("a secret that should not have been delivered was")
		}
	}
	for _, v := range h.Slack.OpenedViews() {
		for _, s := range secrets {
			if strings.Contains(string(v.Raw), s) {
				h.T.Errorf("secret in a view")
			}
		}
	}
	logs := h.Logs.String()
	for _, token := range []string{fakeslack.BotToken, fakeslack.AppToken, fakeentra.ClientSecret} {
		if strings.Contains(logs, token) {
			h.T.Errorf("a configured token or client secret is in the logs")
		}
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			h.T.Errorf("secret leaked in the logs")
		}
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(h.DBPath + suffix)
		if err != nil {
			continue
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				h.T.Errorf("secret stored in the database file %s", filepath.Base(h.DBPath+suffix))
			}
		}
	}
}

// HelpdeskRequest returns the newest request message in the Helpdesk
// Channel.
func (h *Harness) HelpdeskRequest() fakeslack.Message {
	h.T.Helper()
	var m fakeslack.Message
	h.WaitFor("a request in the helpdesk channel", func() bool {
		msgs := h.Slack.MessagesIn(Helpdesk)
		if len(msgs) == 0 {
			return false
		}
		m = msgs[len(msgs)-1]
		return true
	})
	return m
}

// Decide clicks a button of the request message as user and returns the
// clicker's ephemeral answer, if one arrives.
func (h *Harness) Decide(user, actionID string, m fakeslack.Message) *fakeslack.Interaction {
	h.T.Helper()
	ids := Buttons(m)[actionID]
	if len(ids) != 1 {
		h.T.Fatalf("request message has %s buttons %v", actionID, Buttons(m))
	}
	ix, err := h.Slack.BlockAction(h.Ctx(), user, fakeslack.Action{ChannelID: Helpdesk, MessageTS: m.TS, ActionID: actionID, Value: ids[0]})
	if err != nil {
		h.T.Fatal(err)
	}
	return ix
}

// WaitFor polls cond until it holds, for up to 20 s, and fails the test
// with the Slack calls made so far if it never does.
func (h *Harness) WaitFor(what string, cond func() bool) {
	h.T.Helper()
	testkit.Eventually(h.T, 20*time.Second, what, cond, func() string { return "calls: " + h.CallSummary() })
}

// CurrentRequest returns the helpdesk channel's message ts as it is now.
func (h *Harness) CurrentRequest(ts string) fakeslack.Message {
	for _, m := range h.Slack.MessagesIn(Helpdesk) {
		if m.TS == ts {
			return m
		}
	}
	return fakeslack.Message{}
}

func (h *Harness) CountOf(user string) int { return len(h.Entra.CredentialsOf(EntraID(user))) }

// HomeMessage is user's published Home tab as a message, for messageText
// and buttons; ok is false while there is none.
func (h *Harness) HomeMessage(user string) (fakeslack.View, fakeslack.Message, bool) {
	v, ok := h.Slack.HomeView(user)
	if !ok {
		return v, fakeslack.Message{}, false
	}
	var view struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(v.Raw, &view); err != nil {
		h.T.Fatalf("home view of %s: %v", user, err)
	}
	return v, fakeslack.Message{Blocks: view.Blocks, Raw: v.Raw}, true
}

// OpenHome opens user's Home tab and returns the view apppass published
// for this opening.
func (h *Harness) OpenHome(user string) (fakeslack.View, fakeslack.Message) {
	h.T.Helper()
	before, _ := h.Slack.HomeView(user)
	if _, err := h.Slack.AppHomeOpened(h.Ctx(), user); err != nil {
		h.T.Fatalf("open home of %s: %v", user, err)
	}
	var v fakeslack.View
	var m fakeslack.Message
	h.WaitFor("the home tab of "+user, func() bool {
		var ok bool
		v, m, ok = h.HomeMessage(user)
		return ok && v.Hash != before.Hash
	})
	return v, m
}

// HomeSays waits until user's Home tab shows every one of want and none
// of unwanted, and returns it.
func (h *Harness) HomeSays(user string, want []string, unwanted ...string) (fakeslack.View, fakeslack.Message) {
	h.T.Helper()
	var v fakeslack.View
	var m fakeslack.Message
	h.WaitFor(fmt.Sprintf("%s's home tab to show %q", user, want), func() bool {
		var ok bool
		if v, m, ok = h.HomeMessage(user); !ok {
			return false
		}
		text := MessageText(m)
		for _, w := range want {
			if !strings.Contains(text, w) {
				return false
			}
		}
		for _, u := range unwanted {
			if strings.Contains(text, u) {
				return false
			}
		}
		return true
	})
	return v, m
}

// ClickInHome presses a button of user's Home tab.
func (h *Harness) ClickInHome(user string, v fakeslack.View, actionID, value string) {
	h.T.Helper()
	if _, err := h.Slack.BlockAction(h.Ctx(), user, fakeslack.Action{ViewID: v.ID, ActionID: actionID, Value: value}); err != nil {
		h.T.Fatalf("click %s in home: %v", actionID, err)
	}
}

// AssertNoSecretPublished checks every views.publish call for every
// secret Entra issued.
func (h *Harness) AssertNoSecretPublished() {
	h.T.Helper()
	calls := h.Slack.CallsTo("views.publish")
	if len(calls) == 0 {
		h.T.Error("no views.publish call was made")
	}
	for _, c := range calls {
		if s := h.SecretIn(string(c.Body)); s != "" {
			h.T.Error("a secret was published in a Home tab")
		}
	}
}

// RunJob runs job name once in the running apppass.
func (h *Harness) RunJob(name string) domain.JobRun {
	h.T.Helper()
	res, err := h.App.Jobs.RunOnce(h.Ctx(), name)
	if err != nil {
		h.T.Fatalf("job %s: %v", name, err)
	}
	return res
}

// HelpdeskTexts returns the text of every message in the Helpdesk Channel.
func (h *Harness) HelpdeskTexts() []string {
	var out []string
	for _, m := range h.Slack.MessagesIn(Helpdesk) {
		out = append(out, MessageText(m))
	}
	return out
}
