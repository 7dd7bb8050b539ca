package fakeexchange

import (
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
)

// exchangeCaps are the capabilities of Exchange Online's IMAP that
// imapserver can announce (PLATFORM.md: IMAP4 IMAP4rev1 AUTH=PLAIN
// AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE
// LITERAL+; no CONDSTORE, no QRESYNC). imapserver adds SASL-IR, the AUTH=
// mechanisms and, after login, UNSELECT and IDLE itself; it has no ID.
var exchangeCaps = imap.CapSet{
	imap.CapIMAP4rev1: {}, imap.CapNamespace: {}, imap.CapUIDPlus: {}, imap.CapChildren: {}, imap.CapLiteralPlus: {},
}

// Exchange's answers.
var (
	errAuthenticateFailed = &imap.Error{Type: imap.StatusResponseTypeNo, Text: "AUTHENTICATE failed."}
	errLoginFailed        = &imap.Error{Type: imap.StatusResponseTypeNo, Text: "LOGIN failed."}
	// errNotConnected is what Exchange answers every command of a session
	// that logged in with a token for a mailbox the principal holds no
	// FullAccess on (field reports).
	errNotConnected = &imap.Error{Type: imap.StatusResponseTypeBad, Text: "User is authenticated but not connected."}
)

// ByeTokenExpired is the text of Exchange's BYE when a session's token
// expires.
const ByeTokenExpired = "Session invalidated - AccessTokenExpired"

// imapSession is one IMAP connection to the fake.
type imapSession struct {
	s    *Store
	conn *imapserver.Conn

	mu        sync.Mutex
	box       *mailbox // set at login
	user      *imapmemserver.UserSession
	connected bool // logged in with FullAccess
	timer     *time.Timer
}

var (
	_ imapserver.SessionSASL      = (*imapSession)(nil)
	_ imapserver.SessionNamespace = (*imapSession)(nil)
)

// newIMAPSession is imapserver's NewSession. Internal connections (the
// fake's own POP3 and Messages) start logged in.
func (s *Store) newIMAPSession(c *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
	is := &imapSession{s: s, conn: c}
	if ic, ok := c.NetConn().(internalConn); ok {
		is.box, is.user, is.connected = ic.box, imapmemserver.NewUserSession(ic.box.user), true
		return is, &imapserver.GreetingData{PreAuth: true}, nil
	}
	return is, nil, nil
}

// Login refuses: Basic authentication is off in Exchange Online (unless
// StoreOptions.TokenAsPassword, for measurements).
func (is *imapSession) Login(user, password string) error {
	if is.s.tokenLogin.Load() {
		if err := is.xoauth2([]byte("user=" + user + "\x01auth=Bearer " + password + "\x01\x01")); err != nil {
			return errLoginFailed
		}
		return nil
	}
	is.s.refused("IMAP", "", RefusedBasicAuthOff)
	return errLoginFailed
}

// AuthenticateMechanisms are Exchange's: PLAIN (always refused now) and
// XOAUTH2.
func (is *imapSession) AuthenticateMechanisms() []string { return []string{"PLAIN", "XOAUTH2"} }

// Authenticate starts a SASL exchange.
func (is *imapSession) Authenticate(mech string) (sasl.Server, error) {
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(func(_, user, password string) error {
			if is.s.tokenLogin.Load() { // measurements only: see TokenAsPassword
				if is.xoauth2([]byte("user="+user+"\x01auth=Bearer "+password+"\x01\x01")) == nil {
					return nil
				}
			}
			is.s.refused("IMAP", "", RefusedBasicAuthOff)
			return errAuthenticateFailed
		}), nil
	case "XOAUTH2":
		return &xoauth2Server{check: is.xoauth2}, nil
	}
	return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "The specified authentication mechanism is not supported."}
}

// xoauth2 decides an XOAUTH2 login.
func (is *imapSession) xoauth2(resp []byte) error {
	box, granted, expires, reason := is.s.authorize("IMAP", resp)
	if reason != "" {
		user, _, _ := parseXOAUTH2(resp)
		is.s.refused("IMAP", user, reason)
		return errAuthenticateFailed
	}
	if !granted {
		is.s.refused("IMAP", box.address, RefusedNoGrant)
	}
	is.mu.Lock()
	is.box, is.connected = box, granted
	if granted {
		is.user = imapmemserver.NewUserSession(box.user)
	}
	is.timer = time.AfterFunc(expires.Sub(is.s.now()), is.expire)
	is.mu.Unlock()
	is.s.mu.Lock()
	is.s.live[is] = true
	is.s.mu.Unlock()
	return nil
}

// expire ends the session as Exchange does when its token expires.
func (is *imapSession) expire() { _ = is.conn.Bye(ByeTokenExpired) }

// Close releases the session's place.
func (is *imapSession) Close() error {
	is.mu.Lock()
	defer is.mu.Unlock()
	if is.timer != nil {
		is.timer.Stop()
		is.s.mu.Lock()
		delete(is.s.live, is)
		is.s.mu.Unlock()
		is.s.release(is.box, "IMAP")
	}
	if is.user != nil {
		return is.user.Close()
	}
	return nil
}

// session returns the mailbox session, or Exchange's error for a session
// without FullAccess.
func (is *imapSession) session() (*imapmemserver.UserSession, error) {
	is.mu.Lock()
	defer is.mu.Unlock()
	if !is.connected {
		return nil, errNotConnected
	}
	return is.user, nil
}

func (is *imapSession) Select(mailbox string, options *imap.SelectOptions) (*imap.SelectData, error) {
	u, err := is.session()
	if err != nil {
		return nil, err
	}
	return u.Select(mailbox, options)
}

func (is *imapSession) Create(mailbox string, options *imap.CreateOptions) error {
	u, err := is.session()
	if err != nil {
		return err
	}
	return u.Create(mailbox, options)
}

func (is *imapSession) Delete(mailbox string) error {
	u, err := is.session()
	if err != nil {
		return err
	}
	return u.Delete(mailbox)
}

func (is *imapSession) Rename(mailbox, newName string, options *imap.RenameOptions) error {
	u, err := is.session()
	if err != nil {
		return err
	}
	return u.Rename(mailbox, newName, options)
}

func (is *imapSession) Subscribe(mailbox string) error {
	u, err := is.session()
	if err != nil {
		return err
	}
	return u.Subscribe(mailbox)
}

func (is *imapSession) Unsubscribe(mailbox string) error {
	u, err := is.session()
	if err != nil {
		return err
	}
	return u.Unsubscribe(mailbox)
}

func (is *imapSession) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	u, err := is.session()
	if err != nil {
		return err
	}
	return u.List(w, ref, patterns, options)
}

func (is *imapSession) Status(mailbox string, options *imap.StatusOptions) (*imap.StatusData, error) {
	u, err := is.session()
	if err != nil {
		return nil, err
	}
	return u.Status(mailbox, options)
}

func (is *imapSession) Append(mailbox string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	u, err := is.session()
	if err != nil {
		return nil, err
	}
	return u.Append(mailbox, r, options)
}

func (is *imapSession) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	u, err := is.session()
	if err != nil {
		return nil // nothing to report; the command itself was answered
	}
	return u.Poll(w, allowExpunge)
}

func (is *imapSession) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	u, err := is.session()
	if err != nil {
		return err
	}
	return u.Idle(w, stop)
}

func (is *imapSession) Unselect() error {
	u, err := is.session()
	if err != nil {
		return err
	}
	return u.Unselect()
}

func (is *imapSession) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	u, err := is.session()
	if err != nil {
		return err
	}
	return u.Expunge(w, uids)
}

func (is *imapSession) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	u, err := is.session()
	if err != nil {
		return nil, err
	}
	return u.Search(kind, criteria, options)
}

func (is *imapSession) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	u, err := is.session()
	if err != nil {
		return err
	}
	return u.Fetch(w, numSet, options)
}

func (is *imapSession) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	u, err := is.session()
	if err != nil {
		return err
	}
	return u.Store(w, numSet, flags, options)
}

func (is *imapSession) Copy(numSet imap.NumSet, dest string) (*imap.CopyData, error) {
	u, err := is.session()
	if err != nil {
		return nil, err
	}
	return u.Copy(numSet, dest)
}

func (is *imapSession) Namespace() (*imap.NamespaceData, error) {
	u, err := is.session()
	if err != nil {
		return nil, err
	}
	return u.Namespace()
}

// xoauth2Server is the server side of SASL XOAUTH2 as Exchange speaks it:
// the response comes at once (SASL-IR) or after an empty challenge, and a
// refusal is answered at once.
type xoauth2Server struct {
	check func(resp []byte) error
	asked bool
}

// maxXOAUTH2 bounds the response: Entra's tokens run to a few kilobytes.
const maxXOAUTH2 = 64 << 10

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if len(resp) == 0 && !x.asked {
		x.asked = true
		return []byte{}, false, nil
	}
	if len(resp) > maxXOAUTH2 {
		return nil, false, errAuthenticateFailed
	}
	if err := x.check(resp); err != nil {
		return nil, false, err
	}
	return nil, true, nil
}
