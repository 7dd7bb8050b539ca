package app_test

import (
	"bytes"
	"crypto/tls"
	"strings"
	"testing"

	"github.com/apppass/apppass/app"
	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeexchange"
)

// With APPPASS_MAIL_UPSTREAM=smtp, apppass serve relays a device's
// message to Exchange Online's SMTP with its own token, byte for byte and
// with the envelope, and Graph sends nothing.
func TestGatewayRelaysThroughExchangeSMTP(t *testing.T) {
	h := newHarness(t)
	pool := h.withGateway()
	ex := fakeexchange.NewTest(t, h.Entra)
	ex.AddMailbox(fakeexchange.Mailbox{ID: entraID(alice), Address: "alice@example.test"})
	ex.AssignRole(fakeentra.ClientID, fakeexchange.RoleSMTPSendAsApp, []string{entraID(alice)})
	h.Env["APPPASS_MAIL_UPSTREAM"] = "smtp"
	h.Env["APPPASS_EXCHANGE_SMTP"] = ex.SMTPAddr()
	h.Adjust = func(m *app.Main) { m.ExchangeTLS = &tls.Config{RootCAs: ex.CertPool()} }
	h.Start()
	secret := h.SecretIn(h.Ask(alice, "create Scanner"))
	msg := scan("relayed")
	to := []string{"bob@example.test", "hidden@example.test"}
	if err := sendMail(h.App.SMTPAddr, pool, "alice@example.test", secret, "alice@example.test", to, msg); err != nil {
		t.Fatalf("sending through the smtp upstream: %v", err)
	}
	got := ex.SMTPMessages()
	if len(got) != 1 || !bytes.Equal(got[0].Data, msg) || strings.Join(got[0].To, ",") != strings.Join(to, ",") || got[0].Mailbox != "alice@example.test" {
		t.Fatalf("Exchange got %+v", got)
	}
	if n := len(h.Entra.Mailbox(entraID(alice))); n != 0 {
		t.Errorf("Graph sent %d messages too", n)
	}
}
