package config

import (
	"fmt"
	"net"
)

// DefaultHTTPAddr is where /healthz, /readyz and /metrics are served by
// default: loopback only, so nothing is exposed until an operator says so.
const DefaultHTTPAddr = "127.0.0.1:9090"

// validateHTTPAddr accepts host:port, :port, or "" (not served).
func validateHTTPAddr(addr string) error {
	if addr == "" {
		return nil
	}
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		return fmt.Errorf("APPPASS_HTTP_ADDR must be host:port or :port, such as 127.0.0.1:9090, or \"off\", got %q", addr)
	}
	return nil
}

// opt reads a setting that may be turned off with "off" (or "-").
func (e *envReader) opt(name, def string) string {
	switch v := e.str(name, def); v {
	case "off", "-":
		return ""
	default:
		return v
	}
}
