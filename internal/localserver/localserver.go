// Package localserver serves an http.Handler on a loopback port, over
// plain HTTP or TLS with a fresh self-signed certificate. It does for the
// fakes what net/http/httptest does, without linking httptest (and so
// package testing) into the apppass binary, which runs the fakes for
// `apppass demo`.
package localserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is a running local HTTP server.
type Server struct {
	// URL is http://127.0.0.1:port or https://127.0.0.1:port.
	URL string

	srv    *http.Server
	cert   *x509.Certificate
	client *http.Client
	done   chan struct{}

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	once  sync.Once
}

// Start serves h over plain HTTP on 127.0.0.1 (a free port).
func Start(h http.Handler) (*Server, error) { return start(h, false) }

// StartTLS serves h over TLS on 127.0.0.1 (a free port), with a
// self-signed certificate for 127.0.0.1 and localhost that [Server.Client]
// and [Server.Certificate] let clients trust.
func StartTLS(h http.Handler) (*Server, error) { return start(h, true) }

func start(h http.Handler, useTLS bool) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("localserver: listen: %w", err)
	}
	s := &Server{conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
	s.srv = &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, ConnState: s.track}
	scheme := "http"
	tr := &http.Transport{ForceAttemptHTTP2: false}
	if useTLS {
		cert, err := selfSigned()
		if err != nil {
			ln.Close()
			return nil, err
		}
		s.cert = cert.Leaf
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		pool := x509.NewCertPool()
		pool.AddCert(cert.Leaf)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		scheme = "https"
	}
	s.client = &http.Client{Transport: tr}
	s.URL = scheme + "://" + ln.Addr().String()
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener was closed under it: nothing to report
		}
	}()
	return s, nil
}

func (s *Server) track(c net.Conn, st http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch st {
	case http.StateNew:
		s.conns[c] = struct{}{}
	case http.StateClosed, http.StateHijacked:
		delete(s.conns, c)
	}
}

// Client returns a client that trusts the server's certificate.
func (s *Server) Client() *http.Client { return s.client }

// Certificate returns the TLS certificate, or nil over plain HTTP.
func (s *Server) Certificate() *x509.Certificate { return s.cert }

// CloseClientConnections closes every open connection to the server,
// idle or not (hijacked ones, such as WebSockets, are the handler's).
func (s *Server) CloseClientConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
		delete(s.conns, c)
	}
}

// Close stops the server at once, closing its connections; calling it
// again does nothing.
func (s *Server) Close() {
	s.once.Do(func() {
		s.srv.Close()
		<-s.done
		if t, ok := s.client.Transport.(*http.Transport); ok {
			t.CloseIdleConnections()
		}
	})
}

// selfSigned makes a P-256 certificate for 127.0.0.1, ::1 and localhost,
// valid from an hour ago for a year.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("localserver: key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("localserver: serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("localserver: certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("localserver: certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}
