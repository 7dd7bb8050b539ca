// Package fakeslack is an in-process fake of Slack for end-to-end tests.
//
// It speaks the real wire protocols, so the unmodified
// github.com/slack-go/slack client and its socketmode client can be pointed
// at it:
//
//	s := fakeslack.New(t)
//	api := slack.New(fakeslack.BotToken,
//		slack.OptionAppLevelToken(fakeslack.AppToken),
//		slack.OptionAPIURL(s.APIURL()))
//	client := socketmode.New(api)
//	go client.RunContext(ctx) // and drain client.Events
//
// The fake serves a subset of the Web API (auth, users, conversations.open,
// chat, views, apps.connections.open), a Socket Mode WebSocket endpoint and
// per-interaction response URLs. Tests drive user activity with
// [Server.SlashCommand], [Server.BlockAction], [Server.ViewSubmission] and
// [Server.EventCallback] (and [Server.AppHomeOpened]), inspect what the bot did with [Server.Calls],
// [Server.Messages] and [Server.View], and inject failures with
// [Server.FailMethod], [Server.RateLimit], [Server.FailResponseURLs],
// [Server.DropSockets] and friends.
//
// Where apppass has to cope with how Slack really behaves, the fake does the
// same:
//
//   - Socket Mode: an app may hold up to [MaxConnections] connections at once
//     (one per replica); each envelope goes to exactly one live connection,
//     round robin, and only an ack on that connection counts. When the
//     connection closes before acking, the envelope is redelivered to
//     another live one with retry_attempt 1, 2, 3 (see [MaxRedeliveries]).
//     [Interaction.Conn] and [Interaction.Conns] tell which connection got
//     it; [Server.DropConnection] and [Server.SendDisconnectTo] act on one
//     connection. Web API rate limits ([Server.RateLimit]) are per app and
//     method, so they apply whichever connection's process calls.
//   - Block Kit: chat.postMessage, chat.postEphemeral and chat.update answer
//     invalid_blocks (with errors and response_metadata.messages naming the
//     JSON pointer), response URLs HTTP 400 "invalid_blocks", views.open /
//     push / update / publish invalid_arguments, for blocks beyond Slack's
//     limits: 50 blocks per message and 100 per view, section text 3,000
//     characters, 10 fields of 2,000, header 150, button text 75 / value
//     2,000 / action_id 255, 10 context elements, input labels 2,000…
//     (blockkit.go).
//   - Identity: payloads carry team_id / team.id and, inside Enterprise Grid
//     ([Server.SetEnterprise]), enterprise_id / enterprise.id; users can be
//     guests ([Server.AddGuestUser]), external Slack Connect users
//     ([Server.AddExternalUser]) or deactivated ([Server.DeactivateUser]);
//     [Server.SlashCommandFrom] claims any team.
//   - App Home: [Server.AppHomeOpened] sends app_home_opened; views.publish
//     takes a "home" view of at most 100 blocks ([Server.HomeView]).
//
// All state lives behind one mutex; every method is safe for concurrent use.
package fakeslack

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/apppass/apppass/internal/localserver"
)

// Tokens and identities of the fake workspace.
const (
	// AppToken is the only app-level token the fake accepts; it is
	// required by apps.connections.open.
	AppToken = "xapp-1-test"
	// BotToken is the only bot token the fake accepts; every other Web API
	// method requires it.
	BotToken = "xoxb-test"
	// BotUserID is the user ID of the bot itself (auth.test user_id).
	BotUserID = "UBOT"
	// BotID is the bot ID reported by auth.test and on bot messages.
	BotID = "BBOT"
	// BotName is the user name of the bot user.
	BotName = "apppass"
	// AppID is the app ID sent in hello and interaction payloads.
	AppID = "A1"
	// TeamID is the ID of the fake workspace; users added without a team get it.
	TeamID = "T1"
	// TeamDomain is the domain of the fake workspace.
	TeamDomain = "fake"
)

// ErrClosed is returned by interaction methods when the server shuts down.
var ErrClosed = errors.New("fakeslack: server closed")

// Server is a running fake Slack. Create it with [New] in tests, or with
// [Start] elsewhere.
type Server struct {
	// Now is the clock used for expiry rules (trigger IDs expire after 3 s,
	// response URLs after 30 min), message timestamps and Call.At. The fake
	// reads it only while holding its lock. Assign it directly only before
	// any client is connected; afterwards use [Server.SetNow], which is
	// race-free.
	Now func() time.Time

	srv    *localserver.Server
	closed chan struct{}
	once   sync.Once
	wg     sync.WaitGroup // socket goroutines

	mu sync.Mutex
	st state
}

// TB is the part of testing.TB the fake reports to; *testing.T and
// *testing.B satisfy it. Declaring it here keeps package testing out of
// the apppass binary, which runs the fake for `apppass demo`.
type TB interface {
	Helper()
	Fatal(args ...any)
	Cleanup(func())
}

// New starts a fake Slack on a local plain-HTTP server. tb.Cleanup
// closes the server and every socket connection.
func New(tb TB) *Server {
	tb.Helper()
	s, err := Start()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// newServer builds a fake that is not listening yet, and its routes.
func newServer() (*Server, http.Handler) {
	s := &Server{Now: time.Now, closed: make(chan struct{})}
	s.st = newState()
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.handleAPI)
	mux.HandleFunc("/socket", s.handleSocket)
	mux.HandleFunc("/response/{id}", s.handleResponseURL)
	s.AddUser(User{ID: BotUserID, Name: BotName, RealName: "AppPass", IsBot: true})
	return s, mux
}

// URL returns the base URL of the fake, e.g. "http://127.0.0.1:1234".
func (s *Server) URL() string { return s.srv.URL }

// APIURL returns the Web API base URL with a trailing slash, suitable for
// slack.OptionAPIURL, e.g. "http://127.0.0.1:1234/api/".
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// Close shuts the fake down: pending interactions fail with [ErrClosed],
// sockets are closed and the HTTP server stops. It is called automatically
// by the cleanup registered in [New] and is idempotent.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closed)
		s.mu.Lock()
		conns := s.st.takeConns()
		s.mu.Unlock()
		for _, c := range conns {
			_ = c.ws.Close()
		}
		s.srv.CloseClientConnections()
		s.srv.Close()
		s.wg.Wait()
	})
}

// SetNow replaces the fake's clock (see the Now field) under the lock, e.g.
// s.SetNow(func() time.Time { return time.Now().Add(31 * time.Minute) }) to
// expire every response URL. nil restores time.Now.
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Now = now
}

// nowLocked returns the fake's current time. The caller must hold s.mu.
func (s *Server) nowLocked() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// sleep waits for d, returning early when the server closes or done fires.
func (s *Server) sleep(d time.Duration, done <-chan struct{}) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-done:
	case <-s.closed:
	}
}

// User is a workspace member as served by users.info, users.list and
// users.lookupByEmail.
type User struct {
	ID       string
	TeamID   string // defaults to [TeamID]
	Name     string // the handle, e.g. "alice"
	RealName string
	Email    string
	IsBot    bool
	// Deleted marks a deactivated account: users.info and users.list still
	// return it (with its profile email), users.lookupByEmail answers
	// users_not_found. See [Server.DeactivateUser].
	Deleted bool
	TZ      string // IANA zone, e.g. "Europe/Berlin"; empty means "America/Los_Angeles"
	// IsRestricted marks a multi-channel guest, IsUltraRestricted a
	// single-channel guest (users.info then shows both flags true). See
	// [Server.AddGuestUser].
	IsRestricted      bool
	IsUltraRestricted bool
	// IsStranger marks an external (Slack Connect) user, whose TeamID is
	// another organisation's. See [Server.AddExternalUser].
	IsStranger bool
	// EnterpriseID is the user's Enterprise Grid organisation; empty means
	// the workspace's (see [Server.SetEnterprise]) for users of [TeamID],
	// none for others.
	EnterpriseID string
}

// AddUser adds or replaces (by ID) a workspace member. The bot user
// [BotUserID] is pre-registered and appears in users.list like in real Slack.
func (s *Server) AddUser(u User) {
	if u.TeamID == "" {
		u.TeamID = TeamID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.users[u.ID]; !ok {
		s.st.userOrder = append(s.st.userOrder, u.ID)
	}
	s.st.users[u.ID] = &u
}

// AddChannel registers a channel the bot is a member of. members are the
// other users in it; chat.postEphemeral to a user outside a non-empty member
// list fails with user_not_in_channel (an empty list means "everyone").
// Calling it again for the same id replaces the member list.
func (s *Server) AddChannel(id string, members ...string) {
	s.addChannel(id, true, members)
}

// AddChannelWithoutBot registers a channel the bot is NOT a member of:
// chat.postMessage answers not_in_channel and chat.postEphemeral
// channel_not_found, as real Slack does.
func (s *Server) AddChannelWithoutBot(id string, members ...string) {
	s.addChannel(id, false, members)
}

func (s *Server) addChannel(id string, botMember bool, members []string) {
	ch := &channel{id: id, botMember: botMember, members: map[string]bool{}}
	for _, m := range members {
		ch.members[m] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.channels[id] = ch
}
