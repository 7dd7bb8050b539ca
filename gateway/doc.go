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
// The gateway faces the network (SPEC §10): connections are capped in all
// and per client address, and given little time and few commands before
// login (limiter.go); the login decision (Authenticate, authapi.go) is
// protocol-neutral, shared with the IMAP and POP3 listeners; failures are
// counted per owner and client address in bounded rows, with one attempt
// per owner in flight across replicas; a password apppass removed is
// refused by its hint for a day, whatever Entra still accepts; message
// headers are checked before the body goes on, and bodies in flight are
// bounded (memory.go). Every session carries a correlation id, the
// reference a device sees in an error.
//
// The package speaks SMTP through github.com/emersion/go-smtp and declares
// the small interfaces it needs from Graph and the store (ports.go); the
// wiring lives in the root package.
package gateway
