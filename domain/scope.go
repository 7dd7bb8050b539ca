package domain

import (
	"fmt"
	"net/netip"
	"strings"
)

// Scope is what an app password may be used for (SPEC §16): sending mail
// (SMTP), reading it (IMAP and POP3), and from which client networks. It
// is kept in apppass's store by the password's keyId, never in Entra, and
// is not a secret. A password without a recorded scope is send-only,
// from anywhere.
type Scope struct {
	Send, Read bool
	// Networks are the client networks the password may be used from;
	// empty means any.
	Networks []netip.Prefix
}

// SendOnly is the scope of a password made without options, and of every
// password made before scopes existed.
var SendOnly = Scope{Send: true}

// MaxScopeNetworks bounds --from: a handful of office and VPN ranges.
const MaxScopeNetworks = 20

// ParseNetworks reads a comma-separated list of CIDRs (or single
// addresses) as typed after --from. Its errors are KindInvalid with a
// message safe to show.
func ParseNetworks(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, Errorf(KindInvalid, "%q is not a network: write it as 192.0.2.0/24 or 2001:db8::/48", clip(f, 60))
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	if len(out) == 0 {
		return nil, Errorf(KindInvalid, "--from needs at least one network, such as 192.0.2.0/24")
	}
	if len(out) > MaxScopeNetworks {
		return nil, Errorf(KindInvalid, "--from takes at most %d networks", MaxScopeNetworks)
	}
	return out, nil
}

// clip shortens s to n bytes for an error message.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// AllowsFrom reports whether a client at addr (an IP address, as the
// gateway sees it) is inside the scope's networks.
func (s Scope) AllowsFrom(addr string) bool {
	if len(s.Networks) == 0 {
		return true
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range s.Networks {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// NetworksString is the networks as stored and shown: comma-separated.
func (s Scope) NetworksString() string {
	parts := make([]string, len(s.Networks))
	for i, p := range s.Networks {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

// String describes the scope for people: "send", "send, read",
// "send · from 192.0.2.0/24".
func (s Scope) String() string {
	var what []string
	if s.Send {
		what = append(what, "send")
	}
	if s.Read {
		what = append(what, "read")
	}
	if len(what) == 0 {
		what = append(what, "nothing")
	}
	out := strings.Join(what, ", ")
	if len(s.Networks) > 0 {
		out += " · from " + s.NetworksString()
	}
	return out
}

// GoString keeps %#v readable in test failures.
func (s Scope) GoString() string { return fmt.Sprintf("Scope(%s)", s) }
