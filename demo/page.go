package demo

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeslack"
)

//go:embed web
var web embed.FS

// deliveryTimeout bounds how long the page waits for apppass to ack.
const deliveryTimeout = 10 * time.Second

// routes is the page and its JSON API:
//
//	GET  /                  the page (and its script and style)
//	GET  /api/state?user=U  what U sees (State)
//	GET  /api/events?user=U the same State as server-sent events, on change
//	POST /api/command       {user, channel, text}: U types a slash command
//	POST /api/click         {user, channel, ts | view_id, action_id, block_id, value}
//	POST /api/submit        {user, view_id, values: {block_id: {action_id: value}}}
//	POST /api/close         {user, view_id}
//	POST /api/home          {user}: U opens apppass's App Home tab
//
// Errors answer {"error": "…"} with a 4xx or 5xx status.
func (d *Demo) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(web, "web")
	mux.Handle("GET /", http.FileServerFS(static))
	mux.HandleFunc("GET /api/state", d.handleState)
	mux.HandleFunc("GET /api/events", d.handleEvents)
	mux.HandleFunc("POST /api/command", d.handleCommand)
	mux.HandleFunc("POST /api/click", d.handleClick)
	mux.HandleFunc("POST /api/submit", d.handleSubmit)
	mux.HandleFunc("POST /api/close", d.handleClose)
	mux.HandleFunc("POST /api/home", d.handleHome)
	return securityHeaders(mux)
}

// securityHeaders forbids the page any outside resource and any inline
// script: everything it draws comes from its own origin.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// apiError is an error with the status it answers.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// writeJSON answers v, or err as {"error": …}.
func (d *Demo) writeJSON(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		status := http.StatusBadGateway
		var ae *apiError
		if errors.As(err, &ae) {
			status = ae.status
		} else {
			d.log.Warn("demo request failed", "err", err)
		}
		w.WriteHeader(status)
		v = map[string]string{"error": err.Error()}
	}
	_ = json.NewEncoder(w).Encode(v)
}

// me is the seeded person the request acts as.
func (d *Demo) me(id string) (Person, error) {
	p, ok := d.person(id)
	if !ok {
		return Person{}, badRequest("unknown user %q", id)
	}
	return p, nil
}

func (d *Demo) handleState(w http.ResponseWriter, r *http.Request) {
	me, err := d.me(r.URL.Query().Get("user"))
	if err != nil {
		d.writeJSON(w, nil, err)
		return
	}
	d.writeJSON(w, d.state(me), nil)
}

// handleEvents streams the person's State whenever it changes.
func (d *Demo) handleEvents(w http.ResponseWriter, r *http.Request) {
	me, err := d.me(r.URL.Query().Get("user"))
	if err != nil {
		d.writeJSON(w, nil, err)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		d.writeJSON(w, nil, &apiError{http.StatusInternalServerError, "streaming unsupported"})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	tick := time.NewTicker(d.interval)
	defer tick.Stop()
	var last []byte
	idle := 0
	for {
		b, _ := json.Marshal(d.state(me))
		switch {
		case !bytes.Equal(b, last):
			fmt.Fprintf(w, "data: %s\n\n", b)
			last, idle = b, 0
			flusher.Flush()
		case idle*int(d.interval) > int(15*time.Second):
			fmt.Fprint(w, ": keep-alive\n\n")
			idle = 0
			flusher.Flush()
		}
		idle++
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}

// decode reads a JSON request body of at most 64 KiB into v. It insists
// on the JSON content type, which a browser sends cross-origin only after
// a CORS preflight that this server never allows, so other web pages
// cannot drive the demo.
func decode(r *http.Request, v any) error {
	if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(ct) != "application/json" {
		return &apiError{http.StatusUnsupportedMediaType, "send application/json"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("bad request body: %v", err)
	}
	return nil
}

// commandRequest is POST /api/command.
type commandRequest struct {
	User    string `json:"user"`
	Channel string `json:"channel"`
	Text    string `json:"text"`
}

func (d *Demo) handleCommand(w http.ResponseWriter, r *http.Request) {
	var req commandRequest
	err := decode(r, &req)
	var notice string
	if err == nil {
		notice, err = d.command(r.Context(), req)
	}
	if notice != "" {
		// Slack answers these itself, to the typist only; they are not the
		// page's failures, so no error status.
		d.writeJSON(w, map[string]any{"ok": false, "notice": notice}, nil)
		return
	}
	d.writeJSON(w, map[string]bool{"ok": true}, err)
}

// notACommand is what Slack tells someone who typed text that is no
// /apppass command, "" for a command. The page plays only slash commands:
// apppass reads no messages, so plain text would reach nobody.
func notACommand(text string) string {
	text = strings.TrimSpace(text)
	cmd, _, _ := strings.Cut(text, " ")
	switch {
	case !strings.HasPrefix(cmd, "/"):
		return fmt.Sprintf("`%s` is not a command. apppass answers slash commands only: try `/apppass help`.", domain.Clip(text, 40))
	case cmd != "/apppass":
		return fmt.Sprintf("`%s` is not a valid command. In this workspace only `/apppass` is installed.", domain.Clip(cmd, 40))
	}
	return ""
}

// command sends /apppass as typed by req.User in req.Channel over the
// socket and waits for apppass's ack. Text that is no /apppass command
// is not sent: notice is what Slack would tell the typist instead.
func (d *Demo) command(ctx context.Context, req commandRequest) (notice string, err error) {
	me, err := d.me(req.User)
	if err != nil {
		return "", err
	}
	if !d.visibleChannel(me, req.Channel) {
		return "", badRequest("unknown channel %q", req.Channel)
	}
	text := strings.TrimSpace(req.Text)
	if notice := notACommand(text); notice != "" {
		return notice, nil
	}
	_, text, _ = strings.Cut(text, " ")
	text = strings.TrimSpace(text)
	d.mu.Lock()
	d.typed[me.SlackID] = append(d.typed[me.SlackID], typedCommand{channel: req.Channel, text: strings.TrimSpace("/apppass " + text), ts: slackTS(d.now())})
	d.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, deliveryTimeout)
	defer cancel()
	if _, err := d.Slack.SlashCommand(ctx, me.SlackID, req.Channel, "/apppass", d.slackText(text)); err != nil {
		return "", fmt.Errorf("apppass did not acknowledge the command: %w", err)
	}
	return "", nil
}

// visibleChannel reports whether the page shows channel to me.
func (d *Demo) visibleChannel(me Person, channel string) bool {
	if channel == dmChannel(me.SlackID) {
		return true
	}
	for _, c := range seededChannels() {
		if c.ID == channel {
			return true
		}
	}
	return false
}

// slackText is what Slack sends for typed text with should_escape: &, <
// and > escaped, and @handle of a known person as <@U…|handle>.
func (d *Demo) slackText(typed string) string {
	s := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(typed)
	words := strings.Split(s, " ")
	for i, w := range words {
		if !strings.HasPrefix(w, "@") {
			continue
		}
		for _, p := range d.People {
			if strings.EqualFold(w[1:], p.Handle) {
				words[i] = "<@" + p.SlackID + "|" + p.Handle + ">"
			}
		}
	}
	return strings.Join(words, " ")
}

// clickRequest is POST /api/click: a button in a message (channel, ts) or
// in a view (view_id: a modal or the App Home tab).
type clickRequest struct {
	User     string `json:"user"`
	Channel  string `json:"channel,omitempty"`
	TS       string `json:"ts,omitempty"`
	ViewID   string `json:"view_id,omitempty"`
	ActionID string `json:"action_id"`
	BlockID  string `json:"block_id"`
	Value    string `json:"value"`
}

func (d *Demo) handleClick(w http.ResponseWriter, r *http.Request) {
	var req clickRequest
	err := decode(r, &req)
	if err == nil {
		err = d.click(r.Context(), req)
	}
	d.writeJSON(w, map[string]bool{"ok": true}, err)
}

// click presses a button the person can see, sending a block_actions
// interaction with the button's real action_id, block_id and value.
func (d *Demo) click(ctx context.Context, req clickRequest) error {
	me, err := d.me(req.User)
	if err != nil {
		return err
	}
	a := fakeslack.Action{ActionID: req.ActionID, BlockID: req.BlockID, Value: req.Value}
	var blocks []Block
	if req.ViewID != "" {
		v, ok := d.Slack.View(req.ViewID)
		if !ok || v.Closed || v.UserID != me.SlackID {
			return badRequest("no such view")
		}
		a.ViewID = v.ID
		blocks = d.viewBlocks(v.Raw)
	} else {
		m, ok := d.visibleMessage(me, req.Channel, req.TS)
		if !ok {
			return badRequest("no such message")
		}
		a.ChannelID, a.MessageTS, a.Ephemeral = m.Channel, m.TS, m.Ephemeral
		blocks = renderBlocks(m.Blocks, d.handle)
	}
	if !hasButton(blocks, req.BlockID, req.ActionID, req.Value) {
		return badRequest("no such button")
	}
	ctx, cancel := context.WithTimeout(ctx, deliveryTimeout)
	defer cancel()
	if _, err := d.Slack.BlockAction(ctx, me.SlackID, a); err != nil {
		return fmt.Errorf("apppass did not acknowledge the click: %w", err)
	}
	return nil
}

// visibleMessage finds a live message in channel that me can see.
func (d *Demo) visibleMessage(me Person, channel, ts string) (fakeslack.Message, bool) {
	if !d.visibleChannel(me, channel) {
		return fakeslack.Message{}, false
	}
	for _, m := range d.Slack.MessagesIn(channel) {
		if m.TS == ts && !m.Deleted && (!m.Ephemeral || m.User == me.SlackID) {
			return m, true
		}
	}
	return fakeslack.Message{}, false
}

// hasButton reports whether blocks hold the button.
func hasButton(blocks []Block, blockID, actionID, value string) bool {
	match := func(e *Element, b Block) bool {
		return e != nil && e.Type == "button" && b.BlockID == blockID && e.ActionID == actionID && e.Value == value
	}
	for _, b := range blocks {
		if match(b.Accessory, b) {
			return true
		}
		for i := range b.Elements {
			if match(&b.Elements[i], b) {
				return true
			}
		}
	}
	return false
}

// submitRequest is POST /api/submit.
type submitRequest struct {
	User   string                       `json:"user"`
	ViewID string                       `json:"view_id"`
	Values map[string]map[string]string `json:"values"`
}

// submitResponse says whether the modal stays open with errors.
type submitResponse struct {
	OK     bool              `json:"ok"`
	Errors map[string]string `json:"errors,omitempty"`
}

func (d *Demo) handleSubmit(w http.ResponseWriter, r *http.Request) {
	var req submitRequest
	err := decode(r, &req)
	var resp submitResponse
	if err == nil {
		resp, err = d.submit(r.Context(), req)
	}
	d.writeJSON(w, resp, err)
}

// submit submits the person's open modal with the values entered in its
// input blocks, and keeps the errors apppass answers, if any, for the page.
func (d *Demo) submit(ctx context.Context, req submitRequest) (submitResponse, error) {
	me, err := d.me(req.User)
	if err != nil {
		return submitResponse{}, err
	}
	m := d.modal(me.SlackID)
	if m == nil || m.ID != req.ViewID {
		return submitResponse{}, badRequest("that modal is not open")
	}
	values := map[string]map[string]string{}
	for _, b := range m.Blocks {
		if b.Type == "input" && b.Input != nil {
			values[b.BlockID] = map[string]string{b.Input.ActionID: req.Values[b.BlockID][b.Input.ActionID]}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, deliveryTimeout)
	defer cancel()
	ix, err := d.Slack.ViewSubmission(ctx, me.SlackID, m.ID, values)
	if err != nil {
		return submitResponse{}, fmt.Errorf("apppass did not acknowledge the submission: %w", err)
	}
	var ack struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
	}
	_ = json.Unmarshal(ix.AckPayload, &ack)
	d.mu.Lock()
	defer d.mu.Unlock()
	if ack.ResponseAction == "errors" {
		d.viewErrors[m.ID] = ack.Errors
		return submitResponse{OK: false, Errors: ack.Errors}, nil
	}
	delete(d.viewErrors, m.ID)
	return submitResponse{OK: true}, nil
}

// closeRequest is POST /api/close.
type closeRequest struct {
	User   string `json:"user"`
	ViewID string `json:"view_id"`
}

func (d *Demo) handleClose(w http.ResponseWriter, r *http.Request) {
	var req closeRequest
	err := decode(r, &req)
	if err == nil {
		var me Person
		if me, err = d.me(req.User); err == nil {
			ctx, cancel := context.WithTimeout(r.Context(), deliveryTimeout)
			defer cancel()
			if _, err = d.Slack.CloseView(ctx, me.SlackID, req.ViewID); errors.Is(err, fakeslack.ErrUnknownView) {
				err = badRequest("that modal is not open")
			}
		}
	}
	d.writeJSON(w, map[string]bool{"ok": true}, err)
}

// homeRequest is POST /api/home.
type homeRequest struct {
	User string `json:"user"`
}

// handleHome sends app_home_opened for the person, as Slack does each time
// someone opens the app's Home tab, and answers at once: the tab shows
// what apppass publishes, when it does.
func (d *Demo) handleHome(w http.ResponseWriter, r *http.Request) {
	var req homeRequest
	err := decode(r, &req)
	var me Person
	if err == nil {
		me, err = d.me(req.User)
	}
	if err != nil {
		d.writeJSON(w, nil, err)
		return
	}
	event := map[string]any{
		"type": "app_home_opened", "user": me.SlackID, "channel": dmChannel(me.SlackID), "tab": "home",
		"event_ts": slackTS(d.now()),
	}
	if v, ok := d.Slack.HomeView(me.SlackID); ok {
		event["view"] = json.RawMessage(v.Raw)
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		ctx, cancel := context.WithTimeout(d.ctx, deliveryTimeout)
		defer cancel()
		if _, err := d.Slack.EventCallback(ctx, event); err != nil && d.ctx.Err() == nil {
			d.log.Debug("app_home_opened was not acknowledged", "user", me.SlackID, "err", err)
		}
	}()
	d.writeJSON(w, map[string]bool{"ok": true}, nil)
}
