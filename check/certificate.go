package check

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"
)

// certificateCheck loads the gateway's certificate and key and checks that
// they match, that the certificate is valid now and names the host devices
// connect to, and how long it has left.
func certificateCheck(s Settings) Result {
	const name = "mail gateway certificate"
	pair, err := tls.LoadX509KeyPair(s.TLSCertFile, s.TLSKeyFile)
	if err != nil {
		return fail(name, err.Error(), "set APPPASS_SMTP_TLS_CERT and APPPASS_SMTP_TLS_KEY to a matching PEM certificate chain and key")
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return fail(name, err.Error(), "use a PEM-encoded X.509 certificate")
	}
	now := s.Now()
	days := int(leaf.NotAfter.Sub(now).Hours() / 24)
	switch {
	case now.Before(leaf.NotBefore):
		return fail(name, "not valid before "+leaf.NotBefore.Format(time.RFC3339), "check the server's clock or use a certificate valid now")
	case !now.Before(leaf.NotAfter):
		return fail(name, "expired on "+leaf.NotAfter.Format(time.DateOnly), "renew the certificate; apppass re-reads the files when they change")
	}
	if err := leaf.VerifyHostname(s.SMTPHostname); err != nil {
		return fail(name, fmt.Sprintf("does not name %s", s.SMTPHostname), "use a certificate for APPPASS_SMTP_HOSTNAME, or correct the hostname")
	}
	return pass(name, fmt.Sprintf("valid for %s, %d days left", s.SMTPHostname, days))
}
