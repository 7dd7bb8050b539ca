package testkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Cert is a self-signed TLS server certificate for tests to write.
type Cert struct {
	Host string   // its common name and only DNS name
	IPs  []net.IP // its IP addresses, if any
	// Serial is its serial number; 0 means 1.
	Serial int64
	// NotBefore and NotAfter bound its validity; zero means an hour ago
	// and a day from now.
	NotBefore, NotAfter time.Time
}

// WriteCert writes c, with a new P-256 key, as cert.pem and key.pem in
// dir: the key first, then the certificate, each by rename as certbot
// does, so a server that reloads them never reads half a file. It
// returns the two paths and the certificate, for a CertPool to trust.
func WriteCert(tb testing.TB, dir string, c Cert) (certFile, keyFile string, cert *x509.Certificate) {
	tb.Helper()
	if c.Serial == 0 {
		c.Serial = 1
	}
	if c.NotBefore.IsZero() {
		c.NotBefore = time.Now().Add(-time.Hour)
	}
	if c.NotAfter.IsZero() {
		c.NotAfter = time.Now().Add(24 * time.Hour)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(c.Serial), Subject: pkix.Name{CommonName: c.Host}, DNSNames: []string{c.Host}, IPAddresses: c.IPs,
		NotBefore: c.NotBefore, NotAfter: c.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	write := func(path, typ string, b []byte) {
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			tb.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			tb.Fatal(err)
		}
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	write(keyFile, "EC PRIVATE KEY", kb)
	write(certFile, "CERTIFICATE", der)
	return certFile, keyFile, cert
}
