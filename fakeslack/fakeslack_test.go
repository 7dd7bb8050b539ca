package fakeslack_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/apppass/apppass/fakeslack"
)

// newAPI returns a real slack-go client pointed at the fake.
func newAPI(s *fakeslack.Server) *slack.Client {
	return slack.New(fakeslack.BotToken,
		slack.OptionAppLevelToken(fakeslack.AppToken),
		slack.OptionAPIURL(s.APIURL()))
}

// startBot runs a real socketmode client against s, passing every event to
// handle (which may be nil) on a single goroutine. It is stopped on cleanup.
func startBot(t *testing.T, s *fakeslack.Server, handle func(*socketmode.Client, socketmode.Event), opts ...socketmode.Option) *socketmode.Client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := socketmode.New(newAPI(s), opts...)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = c.RunContext(ctx)
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-c.Events:
				if handle != nil {
					handle(c, evt)
				}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return c
}

// ackAll acks every request with no payload.
func ackAll(c *socketmode.Client, evt socketmode.Event) {
	if evt.Request != nil && evt.Request.EnvelopeID != "" {
		_ = c.Ack(*evt.Request)
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestHello(t *testing.T) {
	s := fakeslack.New(t)
	hello := make(chan *socketmode.Request, 1)
	startBot(t, s, func(_ *socketmode.Client, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeHello {
			hello <- evt.Request
		}
	})
	select {
	case req := <-hello:
		if req.NumConnections != 1 || req.ConnectionInfo.AppID != fakeslack.AppID || req.DebugInfo.Host != "fake" {
			t.Fatalf("hello = %+v", req)
		}
	case <-testCtx(t).Done():
		t.Fatal("no hello")
	}
	if got := s.Connections(); got != 1 {
		t.Fatalf("Connections() = %d", got)
	}
	open := s.CallsTo("apps.connections.open")
	if len(open) != 1 || open[0].Kind != fakeslack.KindAPI {
		t.Fatalf("apps.connections.open calls = %+v", open)
	}
}

func TestClientAnswersPings(t *testing.T) {
	s := fakeslack.New(t)
	s.SetPingInterval(20 * time.Millisecond)
	startBot(t, s, nil)
	ctx := testCtx(t)
	if err := s.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	for s.Pongs() < 3 {
		select {
		case <-ctx.Done():
			t.Fatalf("only %d pongs", s.Pongs())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestDropSocketsReconnects(t *testing.T) {
	s := fakeslack.New(t)
	startBot(t, s, ackAll)
	ctx := testCtx(t)
	if err := s.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	s.DropSockets()
	if got := s.LiveConnections(); got != 0 {
		t.Fatalf("LiveConnections() after drop = %d", got)
	}
	// The interaction waits for the client to reconnect.
	if _, err := s.SlashCommand(ctx, "U1", "C1", "/apppass", "status"); err != nil {
		t.Fatal(err)
	}
	if n := s.Connections(); n != 2 {
		t.Fatalf("Connections() = %d, want 2", n)
	}
	if n := len(s.CallsTo("apps.connections.open")); n != 2 {
		t.Fatalf("apps.connections.open called %d times, want 2", n)
	}
}

func TestDisconnectMessageReconnects(t *testing.T) {
	s := fakeslack.New(t)
	startBot(t, s, ackAll)
	ctx := testCtx(t)
	if err := s.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	s.SendDisconnect("refresh_requested")
	if err := s.WaitConnections(ctx, 2); err != nil {
		t.Fatal(err)
	}
}

func TestMissingPingsMakeClientReconnect(t *testing.T) {
	s := fakeslack.New(t)
	s.SetPingInterval(50 * time.Millisecond)
	startBot(t, s, ackAll, socketmode.OptionPingInterval(300*time.Millisecond))
	ctx := testCtx(t)
	if err := s.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	s.PausePings(true)
	if err := s.WaitConnections(ctx, 2); err != nil {
		t.Fatal(err)
	}
	s.PausePings(false)
}

func TestEventsAPI(t *testing.T) {
	s := fakeslack.New(t)
	got := make(chan string, 1)
	startBot(t, s, func(c *socketmode.Client, evt socketmode.Event) {
		if evt.Type == socketmode.EventTypeEventsAPI {
			got <- evt.Data.(slackevents.EventsAPIEvent).InnerEvent.Type
		}
		ackAll(c, evt)
	})
	it, err := s.EventCallback(testCtx(t), map[string]any{
		"type": "app_mention", "user": "U1", "text": "<@UBOT> hi", "channel": "C1", "ts": "1.000001",
	})
	if err != nil {
		t.Fatal(err)
	}
	if it.Type != "events_api" || it.AckPayload != nil {
		t.Fatalf("interaction = %+v", it)
	}
	if typ := <-got; typ != "app_mention" {
		t.Fatalf("inner event type = %q", typ)
	}
}

func TestInteractionWaitsForConnection(t *testing.T) {
	s := fakeslack.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.SlashCommand(ctx, "U1", "C1", "/apppass", ""); err != context.DeadlineExceeded {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
}
