// Package gateway is apppass's SMTP submission gateway (SPEC §10): devices
// and programs that can only speak SMTP with a user name and a password
// (scanners, printers, line-of-business apps, old mail clients) sign in with
// the owner's address and one of their app passwords, and their messages
// are sent as the owner through Microsoft Graph.
//
// Entra stays the only judge of a password: each login that is not in the
// in-memory success cache is a client-credentials token request for the
// owner's application with the typed password. Nothing about the password
// is stored or logged; the cache holds an HMAC under a per-process key.
// Failed logins are counted in the store, so that the guessing limit holds
// across replicas (guessing.go).
//
// The package speaks SMTP through github.com/emersion/go-smtp and declares
// the small interfaces it needs from Graph and the store (ports.go); the
// wiring lives in the root package.
package gateway
