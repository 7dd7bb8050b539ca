package config

import (
	"errors"
	"fmt"
	"net"
)

// Read is the gateway's reading side (SPEC §15): IMAP and POP3 listeners
// that pass a device's session on to Exchange Online. They use the SMTP
// gateway's certificate and hostname (APPPASS_SMTP_TLS_CERT, …).
type Read struct {
	IMAPAddr     string `yaml:"imap_addr"`     // APPPASS_IMAP_ADDR: STARTTLS listener, e.g. :143
	IMAPSAddr    string `yaml:"imaps_addr"`    // APPPASS_IMAPS_ADDR: implicit TLS, e.g. :993
	POP3Addr     string `yaml:"pop3_addr"`     // APPPASS_POP3_ADDR: STLS listener, e.g. :110
	POP3SAddr    string `yaml:"pop3s_addr"`    // APPPASS_POP3S_ADDR: implicit TLS, e.g. :995
	ExchangeIMAP string `yaml:"exchange_imap"` // APPPASS_EXCHANGE_IMAP: Exchange Online's IMAP (TLS)
	ExchangePOP  string `yaml:"exchange_pop"`  // APPPASS_EXCHANGE_POP: Exchange Online's POP3 (TLS)
}

// The default Exchange Online endpoints for reading.
const (
	DefaultExchangeIMAP = "outlook.office365.com:993"
	DefaultExchangePOP  = "outlook.office365.com:995"
)

// IMAPEnabled reports whether an IMAP listener is configured.
func (r Read) IMAPEnabled() bool { return r.IMAPAddr != "" || r.IMAPSAddr != "" }

// POP3Enabled reports whether a POP3 listener is configured.
func (r Read) POP3Enabled() bool { return r.POP3Addr != "" || r.POP3SAddr != "" }

// Enabled reports whether any reading listener is configured.
func (r Read) Enabled() bool { return r.IMAPEnabled() || r.POP3Enabled() }

func loadRead(e *envReader, r *Read) {
	r.IMAPAddr = e.str("APPPASS_IMAP_ADDR", r.IMAPAddr)
	r.IMAPSAddr = e.str("APPPASS_IMAPS_ADDR", r.IMAPSAddr)
	r.POP3Addr = e.str("APPPASS_POP3_ADDR", r.POP3Addr)
	r.POP3SAddr = e.str("APPPASS_POP3S_ADDR", r.POP3SAddr)
	r.ExchangeIMAP = e.str("APPPASS_EXCHANGE_IMAP", r.ExchangeIMAP)
	r.ExchangePOP = e.str("APPPASS_EXCHANGE_POP", r.ExchangePOP)
}

// validate checks the reading settings; the listeners need the gateway's
// certificate and hostname even without an SMTP listener.
func (r Read) validate(s SMTP) error {
	seen := map[string]string{}
	for _, f := range []struct{ name, addr, example string }{
		{"APPPASS_IMAP_ADDR", r.IMAPAddr, ":143"}, {"APPPASS_IMAPS_ADDR", r.IMAPSAddr, ":993"},
		{"APPPASS_POP3_ADDR", r.POP3Addr, ":110"}, {"APPPASS_POP3S_ADDR", r.POP3SAddr, ":995"},
		{"APPPASS_SMTP_ADDR", s.Addr, ""}, {"APPPASS_SMTPS_ADDR", s.TLSAddr, ""},
	} {
		if f.addr == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(f.addr); err != nil || port == "" {
			return fmt.Errorf("%s must be host:port or :port, such as %s, got %q", f.name, f.example, f.addr)
		}
		if other, dup := seen[f.addr]; dup {
			return fmt.Errorf("%s and %s must be different addresses", other, f.name)
		}
		seen[f.addr] = f.name
	}
	for _, f := range []struct{ name, addr, example string }{
		{"APPPASS_EXCHANGE_IMAP", r.ExchangeIMAP, DefaultExchangeIMAP}, {"APPPASS_EXCHANGE_POP", r.ExchangePOP, DefaultExchangePOP},
	} {
		if host, port, err := net.SplitHostPort(f.addr); err != nil || host == "" || port == "" {
			return fmt.Errorf("%s must be host:port, such as %s, got %q", f.name, f.example, f.addr)
		}
	}
	if !r.Enabled() || s.Enabled() {
		return nil // with an SMTP listener, SMTP.validate checks the rest
	}
	switch {
	case s.CertFile == "" || s.KeyFile == "":
		return errors.New("APPPASS_SMTP_TLS_CERT and APPPASS_SMTP_TLS_KEY are required with an IMAP or POP3 listener (the gateway's PEM certificate and key)")
	case s.Hostname == "":
		return errors.New("APPPASS_SMTP_HOSTNAME is required with an IMAP or POP3 listener (the name devices connect to, as in the certificate)")
	}
	return nil
}
