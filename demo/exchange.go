package demo

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/apppass/apppass/fakeentra"
	"github.com/apppass/apppass/fakeexchange"
)

// Exchange is the demo's stand-in Exchange Online mailbox server: IMAP and
// POP3 with XOAUTH2 over TLS, the organisation's mailboxes in it, apppass
// holding FullAccess on each. What the gateway sends lands in its
// recipients' inboxes, so a mail client can read through apppass's IMAP
// and POP3 listeners what the Mailbox pane shows.
type Exchange struct {
	store     *fakeexchange.Store
	IMAP, POP string         // the stand-in's own endpoints (implicit TLS)
	Pool      *x509.CertPool // trusts them
	lns       []net.Listener
}

// StartExchange serves the stand-in on two loopback ports with the
// certificate in certFile and keyFile (it names 127.0.0.1), seeds each
// person's inbox with a welcome message, and copies the mail the Entra
// stand-in accepts into its recipients' inboxes until ctx ends.
func (d *Demo) StartExchange(ctx context.Context, certFile, keyFile string) (*Exchange, error) {
	kp, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("demo: exchange certificate: %w", err)
	}
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("demo: exchange certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	srvTLS := &tls.Config{Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS12}
	x := &Exchange{store: fakeexchange.NewStore(fakeexchange.StoreOptions{TLS: srvTLS}), Pool: pool}
	for _, serve := range []struct {
		addr  *string
		serve func(net.Listener) error
	}{{&x.IMAP, x.store.ServeIMAP}, {&x.POP, x.store.ServePOP3}} {
		ln, err := tls.Listen("tcp", "127.0.0.1:0", srvTLS)
		if err != nil {
			x.Close()
			return nil, fmt.Errorf("demo: exchange: %w", err)
		}
		x.lns = append(x.lns, ln)
		*serve.addr = ln.Addr().String()
		go serve.serve(ln) //nolint:errcheck // ends with Close
	}
	for _, p := range d.People {
		x.store.AddMailbox(p.Email, fakeentra.ClientID)
		welcome := "From: IT <it@contoso.test>\r\nTo: " + p.Email + "\r\nSubject: Welcome to the demo mailbox\r\n" +
			"Date: " + time.Now().Format(time.RFC1123Z) + "\r\nMessage-ID: <welcome-" + p.Handle + "@contoso.test>\r\n\r\n" +
			"This message sits in the stand-in Exchange. Read it through apppass with an app password made with --read.\r\n"
		if _, err := x.store.Deliver(p.Email, []byte(welcome)); err != nil {
			x.Close()
			return nil, fmt.Errorf("demo: exchange: %w", err)
		}
	}
	go x.copySent(ctx, d.Entra)
	return x, nil
}

// copySent delivers what the Entra stand-in sent to the recipients that
// have a mailbox here, each message once.
func (x *Exchange) copySent(ctx context.Context, entra *fakeentra.Server) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	copied := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		sent := entra.SentMessages()
		for _, m := range sent[copied:] {
			for _, to := range m.Recipients {
				_, _ = x.store.Deliver(to, m.MIME) // a recipient outside the organisation has no mailbox here
			}
		}
		copied = len(sent)
	}
}

// Close stops the stand-in.
func (x *Exchange) Close() error {
	for _, ln := range x.lns {
		ln.Close()
	}
	return x.store.Close()
}
