package app_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apppass/apppass/app"
	"github.com/apppass/apppass/app/apptest"
	"github.com/apppass/apppass/demo"
	"github.com/apppass/apppass/internal/testkit"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// demoPage drives `apppass demo`'s page through its HTTP API, as the
// browser does.
type demoPage struct {
	t    *testing.T
	url  string
	smtp string         // the mail gateway's address
	imap string         // its IMAP listener (STARTTLS)
	pop3 string         // its POP3 listener (STLS)
	ca   *x509.CertPool // trusts the gateway's self-signed certificate
}

// startDemo runs `apppass demo --addr 127.0.0.1:0` until the test ends and
// returns its page, found from the URL it prints.
func startDemo(t *testing.T) demoPage {
	t.Helper()
	return startDemoOn(t, "127.0.0.1:0")
}

// startDemoOn is startDemo with the mail gateway on smtpAddr.
func startDemoOn(t *testing.T, smtpAddr string) demoPage {
	t.Helper()
	out := &apptest.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--smtp-addr", smtpAddr, "--imap-addr", "127.0.0.1:0", "--pop3-addr", "127.0.0.1:0"}, func(string) string { return "" }, out, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("apppass demo: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("apppass demo did not stop within 30s")
		}
	})
	url := regexp.MustCompile(`open (http://\S+/)`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		// The data line is printed after the others: wait for it, so that
		// none is read half-written.
		if m := url.FindStringSubmatch(out.String()); m != nil && strings.Contains(out.String(), "Stop with Ctrl-C.") {
			gw := regexp.MustCompile(`Mail gateway: (\S+) `).FindStringSubmatch(out.String())
			dir := regexp.MustCompile(`Data and logs: (\S+) `).FindStringSubmatch(out.String())
			if gw == nil || dir == nil {
				t.Fatalf("apppass demo printed no mail gateway address or data directory: %q", out.String())
			}
			pem, err := os.ReadFile(filepath.Join(dir[1], "gateway-cert.pem"))
			if err != nil {
				t.Fatalf("the demo's gateway certificate: %v", err)
			}
			ca := x509.NewCertPool()
			ca.AppendCertsFromPEM(pem)
			read := regexp.MustCompile(`Reading mail: IMAP (\S+) \(STARTTLS\), POP3 (\S+) `).FindStringSubmatch(out.String())
			if read == nil {
				t.Fatalf("apppass demo printed no IMAP and POP3 addresses: %q", out.String())
			}
			return demoPage{t: t, url: m[1], smtp: gw[1], imap: read[1], pop3: read[2], ca: ca}
		}
		select {
		case err := <-done:
			t.Fatalf("apppass demo stopped: %v; printed %q", err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("apppass demo printed no URL: %q", out.String())
		}
	}
}

func (p demoPage) post(path string, body any) {
	p.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(p.url+path, "application/json", bytes.NewReader(b))
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&e)
		p.t.Fatalf("POST %s %s: %d %s", path, b, resp.StatusCode, e["error"])
	}
}

func (p demoPage) state(user string) demo.State {
	p.t.Helper()
	resp, err := http.Get(p.url + "api/state?user=" + user)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st demo.State
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		p.t.Fatal(err)
	}
	return st
}

// command types /apppass text as user in their DM with apppass.
func (p demoPage) command(user, text string) {
	p.t.Helper()
	p.post("api/command", map[string]string{"user": user, "channel": "D" + user, "text": "/apppass " + text})
}

// waitMessage waits until user sees a message in channel whose text
// contains want, and returns it.
func (p demoPage) waitMessage(user, channel, want string) demo.Message {
	p.t.Helper()
	var found demo.Message
	testkit.Eventually(p.t, 20*time.Second, fmt.Sprintf("%s to see a message with %q in %s", user, want, channel), func() bool {
		for _, c := range p.state(user).Conversations {
			if c.ID != channel {
				continue
			}
			for i := len(c.Messages) - 1; i >= 0; i-- {
				if m := c.Messages[i]; !m.Command && strings.Contains(pageText(m), want) {
					found = m
					return true
				}
			}
		}
		return false
	})
	return found
}

// click presses the button labelled label in m, in channel, as user.
func (p demoPage) click(user, channel string, m demo.Message, label string) {
	p.t.Helper()
	for _, b := range m.Blocks {
		els := b.Elements
		if b.Accessory != nil {
			els = append(els, *b.Accessory)
		}
		for _, e := range els {
			if e.Type == "button" && spanText(e.Text) == label {
				p.post("api/click", map[string]string{"user": user, "channel": channel, "ts": m.TS,
					"action_id": e.ActionID, "block_id": b.BlockID, "value": e.Value})
				return
			}
		}
	}
	p.t.Fatalf("no %q button in %s", label, pageText(m))
}

// clickRow presses the button of the section whose text contains row.
func (p demoPage) clickRow(user, channel string, m demo.Message, row string) {
	p.t.Helper()
	for _, b := range m.Blocks {
		if b.Accessory != nil && strings.Contains(spanText(b.Text), row) {
			p.post("api/click", map[string]string{"user": user, "channel": channel, "ts": m.TS,
				"action_id": b.Accessory.ActionID, "block_id": b.BlockID, "value": b.Accessory.Value})
			return
		}
	}
	p.t.Fatalf("no row %q with a button in %s", row, pageText(m))
}

func spanText(spans []demo.Span) string {
	var b strings.Builder
	for _, s := range spans {
		if s.T == "br" {
			b.WriteString("\n")
		}
		b.WriteString(s.S)
	}
	return b.String()
}

// pageText is everything a message shows, as text.
func pageText(m demo.Message) string {
	parts := []string{spanText(m.Text)}
	for _, b := range m.Blocks {
		parts = append(parts, spanText(b.Text))
		for _, f := range b.Fields {
			parts = append(parts, spanText(f))
		}
		for _, e := range b.Elements {
			parts = append(parts, spanText(e.Text))
		}
		if b.Accessory != nil {
			parts = append(parts, spanText(b.Accessory.Text))
		}
	}
	return strings.Join(parts, "\n")
}

// TestDemo runs `apppass demo` with the real apppass behind the page and
// plays the seeded people through the page's API.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts apppass")
	}
	p := startDemo(t)
	const alice, adam, hana = demo.Employee, demo.Admin, demo.HelpdeskA
	dm := func(u string) string { return "D" + u }
	everyone := []string{demo.Employee, demo.Admin, demo.HelpdeskA, demo.HelpdeskB}

	// The report channel shows a first hygiene report.
	p.waitMessage(adam, demo.ReportChannel, "App password hygiene")

	// Create: the secret is shown once, ephemerally, to alice only.
	p.command(alice, "create Laptop Mail")
	secretMsg := p.waitMessage(alice, dm(alice), "shown only this once")
	if !secretMsg.Ephemeral {
		t.Error("the secret message is not ephemeral")
	}
	var secret string
	for _, b := range secretMsg.Blocks {
		for _, s := range b.Text {
			if s.T == "pre" {
				secret = strings.TrimSpace(s.S)
			}
		}
	}
	if len(secret) < 30 {
		t.Fatalf("no secret in a preformatted block of %q", pageText(secretMsg))
	}
	for _, u := range everyone {
		st := p.state(u)
		for ci, c := range st.Conversations {
			var kept []demo.Message
			for _, m := range c.Messages {
				if !(u == alice && m.TS == secretMsg.TS && c.ID == dm(alice)) {
					kept = append(kept, m)
				}
			}
			st.Conversations[ci].Messages = kept
		}
		b, _ := json.Marshal(st)
		if strings.Contains(string(b), secret) {
			t.Errorf("the secret shows in %s's page outside the secret message", u)
		}
	}

	// The new password sends mail through the demo's gateway, as a
	// scanner would; the Mailbox pane shows it.
	scan := []byte("From: alice@contoso.test\r\nTo: bob@contoso.test\r\nSubject: Scan from the demo\r\n\r\nA scanned page.\r\n")
	if err := sendMail(p.smtp, p.ca, "alice@contoso.test", secret, "alice@contoso.test", []string{"bob@contoso.test"}, scan); err != nil {
		t.Fatalf("sending through the demo's gateway: %v", err)
	}
	testkit.Eventually(t, 10*time.Second, "the Mailbox pane to show the message sent through the gateway", func() bool {
		mb := p.state(alice).Mailbox
		return mb.Running && len(mb.Mail) == 1 && mb.Mail[0].Subject == "Scan from the demo" && mb.Mail[0].From == "alice@contoso.test"
	})

	// List, Delete, Confirm.
	p.command(alice, "list")
	list := p.waitMessage(alice, dm(alice), "4 of 40")
	for _, want := range []string{"Laptop Mail", "Old laptop Outlook", "Office scanner", "iPhone Mail", "last used"} {
		if !strings.Contains(pageText(list), want) {
			t.Errorf("the list lacks %q:\n%s", want, pageText(list))
		}
	}
	p.clickRow(alice, dm(alice), list, "Old laptop Outlook")
	confirm := p.waitMessage(alice, dm(alice), "cannot be undone")
	p.click(alice, dm(alice), confirm, "Delete")
	p.waitMessage(alice, dm(alice), "Deleted Old laptop Outlook")
	p.command(alice, "list")
	after := p.waitMessage(alice, dm(alice), "3 of 40")
	if strings.Contains(pageText(after), "Old laptop Outlook") {
		t.Errorf("the deleted password is still listed:\n%s", pageText(after))
	}

	// Revoke as the admin, for the two who share the scanner; hugo is
	// one of them and may not approve; hana approves.
	p.command(adam, `revoke @alice @hugo "Office scanner" scanner replaced`)
	p.waitMessage(adam, dm(adam), "is filed")
	req := p.waitMessage(hana, demo.HelpdeskChannel, "Revocation request #1")
	if req.Ephemeral || !strings.Contains(pageText(req), "scanner replaced") || !strings.Contains(pageText(req), "hugo@contoso.test") {
		t.Errorf("helpdesk request:\n%s", pageText(req))
	}
	p.click(demo.HelpdeskB, demo.HelpdeskChannel, req, "Approve")
	p.waitMessage(demo.HelpdeskB, demo.HelpdeskChannel, "Your own app passwords are among these")
	p.click(hana, demo.HelpdeskChannel, req, "Approve")
	done := p.waitMessage(hana, demo.HelpdeskChannel, "Approved by @hana")
	if !strings.Contains(pageText(done), "removed") {
		t.Errorf("the request does not show its outcome:\n%s", pageText(done))
	}
	p.waitMessage(demo.HelpdeskB, demo.HelpdeskChannel, "Approved by @hana") // the whole channel sees it
	p.waitMessage(alice, dm(alice), "Office scanner")                        // alice is told by DM
	p.waitMessage(demo.HelpdeskB, dm(demo.HelpdeskB), "Office scanner")      // and so is hugo

	// App Home.
	p.post("api/home", map[string]string{"user": alice})
	testkit.Eventually(t, 10*time.Second, "alice's App Home", func() bool { return p.state(alice).Home.Published })
	home := p.state(alice).Home
	text := pageText(demo.Message{Blocks: home.Blocks})
	for _, want := range []string{"of 40", "Laptop Mail", "iPhone Mail", "Delete", "Create"} {
		if !strings.Contains(text, want) {
			t.Errorf("alice's App Home lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, secret) {
		t.Error("the secret is in the App Home")
	}
}

// secretOf returns the secret in a secret message's preformatted block.
func secretOf(t *testing.T, m demo.Message) string {
	t.Helper()
	for _, b := range m.Blocks {
		for _, s := range b.Text {
			if s.T == "pre" {
				return strings.TrimSpace(s.S)
			}
		}
	}
	t.Fatalf("no secret in a preformatted block of %q", pageText(m))
	return ""
}

// The demo's mailboxes can be read through apppass's IMAP and POP3
// listeners with a password made in the page with --read: the welcome
// message, and what the gateway sent to that mailbox.
func TestDemoReadsMail(t *testing.T) {
	p := startDemo(t)
	alice := demo.Employee
	p.command(alice, "create Mail client --read")
	secret := secretOf(t, p.waitMessage(alice, "D"+alice, "shown only this once"))
	note := []byte("From: alice@contoso.test\r\nTo: alice@contoso.test\r\nSubject: Note to self\r\n\r\nRead me over IMAP.\r\n")
	if err := sendMail(p.smtp, p.ca, "alice@contoso.test", secret, "alice@contoso.test", []string{"alice@contoso.test"}, note); err != nil {
		t.Fatalf("sending through the demo's gateway: %v", err)
	}

	c, err := imapclient.DialStartTLS(p.imap, &imapclient.Options{TLSConfig: &tls.Config{RootCAs: p.ca, ServerName: demo.GatewayHost}})
	if err != nil {
		t.Fatalf("IMAP: %v", err)
	}
	defer c.Close()
	if err := c.Login("alice@contoso.test", secret).Wait(); err != nil {
		t.Fatalf("IMAP LOGIN with a read password: %v", err)
	}
	testkit.Eventually(t, 10*time.Second, "the note in alice's inbox", func() bool {
		sel, err := c.Select("INBOX", nil).Wait()
		return err == nil && sel.NumMessages == 2
	})
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2), &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil {
		t.Fatalf("IMAP FETCH: %v", err)
	}
	var subjects []string
	for _, m := range msgs {
		subjects = append(subjects, m.Envelope.Subject)
	}
	if got, want := strings.Join(subjects, "|"), "Welcome to the demo mailbox|Note to self"; got != want {
		t.Errorf("IMAP subjects = %q, want %q", got, want)
	}

	// POP3 sees the same two messages.
	conn, err := net.Dial("tcp", p.pop3)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tp := textproto.NewConn(conn)
	ask := func(cmd string) string {
		t.Helper()
		if cmd != "" {
			if err := tp.PrintfLine("%s", cmd); err != nil {
				t.Fatal(err)
			}
		}
		line, err := tp.ReadLine()
		if err != nil || !strings.HasPrefix(line, "+OK") {
			t.Fatalf("POP3 %q: %q %v", strings.Fields(cmd + " x")[0], line, err)
		}
		return line
	}
	ask("")
	ask("STLS")
	tconn := tls.Client(conn, &tls.Config{RootCAs: p.ca, ServerName: demo.GatewayHost})
	tp = textproto.NewConn(tconn)
	ask("USER alice@contoso.test")
	ask("PASS " + secret)
	if stat := ask("STAT"); !strings.HasPrefix(stat, "+OK 2 ") {
		t.Errorf("POP3 STAT = %q, want two messages", stat)
	}
	ask("QUIT")
}
