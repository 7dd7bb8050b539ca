package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Mail upstreams (APPPASS_MAIL_UPSTREAM, SPEC §14).
const (
	UpstreamGraph = "graph" // Microsoft Graph: sendMail, or draft + attachments + send
	UpstreamSMTP  = "smtp"  // Exchange Online SMTP AUTH with OAuth (XOAUTH2)
)

// Upstream is how the mail gateway delivers (SPEC §8, §14).
type Upstream struct {
	// Mail is APPPASS_MAIL_UPSTREAM: UpstreamSMTP or UpstreamGraph.
	Mail string `yaml:"mail_upstream"`
	// ExchangeSMTP is APPPASS_EXCHANGE_SMTP: Exchange Online's SMTP
	// submission endpoint, host:port (STARTTLS).
	ExchangeSMTP string `yaml:"exchange_smtp"`
	// ExchangeResource is APPPASS_EXCHANGE_RESOURCE: the resource whose
	// /.default scope apppass asks Exchange tokens for.
	ExchangeResource string `yaml:"exchange_resource"`
}

// DefaultUpstream holds the documented defaults.
func DefaultUpstream() Upstream {
	return Upstream{Mail: UpstreamGraph, ExchangeSMTP: "smtp.office365.com:587", ExchangeResource: "https://outlook.office365.com"}
}

// loadUpstream reads the upstream's environment over u.
func loadUpstream(e *envReader, u *Upstream) {
	u.Mail = strings.ToLower(strings.TrimSpace(e.str("APPPASS_MAIL_UPSTREAM", u.Mail)))
	u.ExchangeSMTP = e.str("APPPASS_EXCHANGE_SMTP", u.ExchangeSMTP)
	u.ExchangeResource = e.str("APPPASS_EXCHANGE_RESOURCE", u.ExchangeResource)
}

// validate checks the upstream settings.
func (u Upstream) validate() error {
	if u.Mail != UpstreamGraph && u.Mail != UpstreamSMTP {
		return fmt.Errorf("APPPASS_MAIL_UPSTREAM must be smtp (Exchange Online SMTP with OAuth) or graph (Microsoft Graph), got %q", u.Mail)
	}
	if host, port, err := net.SplitHostPort(u.ExchangeSMTP); err != nil || host == "" || port == "" {
		return fmt.Errorf("APPPASS_EXCHANGE_SMTP must be host:port, such as smtp.office365.com:587, got %q", u.ExchangeSMTP)
	}
	if r, err := url.Parse(u.ExchangeResource); err != nil || r.Scheme != "https" || r.Host == "" || (r.Path != "" && r.Path != "/") {
		return fmt.Errorf("APPPASS_EXCHANGE_RESOURCE must be a resource URL such as https://outlook.office365.com, got %q", u.ExchangeResource)
	}
	return nil
}
