package fakeentra

import (
	"bufio"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// signInEntry is a row of the appCredentialSignInActivities report: one per
// credential that has a recorded sign-in, in order of first sign-in.
type signInEntry struct {
	seq   int
	id    string
	keyID string
	app   *app
}

func (e *signInEntry) str(prop string) string {
	switch prop {
	case "id":
		return e.id
	case "keyId":
		return e.keyID
	case "appId":
		return e.app.appID
	case "appObjectId":
		return e.app.id
	}
	return ""
}

func (e *signInEntry) coll(string) []string { return nil }

// signInType lists the filterable report properties.
var signInType = entityType{
	name:     "microsoft.graph.appCredentialSignInActivity",
	props:    []string{"id", "keyId", "appId", "appObjectId"},
	defaults: 0b1111,
}

// EnableSignInActivity turns the beta appCredentialSignInActivities report on
// or off. Off (the default) it answers 403 Authorization_RequestDenied, as
// for a tenant without an Entra ID P1/P2 licence.
func (s *Server) EnableSignInActivity(on bool) {
	s.mu.Lock()
	s.signInEnabled = on
	s.mu.Unlock()
}

// SetLastSignIn records t as the last sign-in of the credential keyID. An
// unknown keyID fails the test (tb.Errorf) of a
// fake made with [New], and is ignored by one made with [Start].
func (s *Server) SetLastSignIn(keyID string, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.appOfKey(keyID); a != nil {
		if c := a.cred(keyID); c != nil {
			s.recordSignIn(a, c, t)
			return
		}
	}
	if s.tb != nil {
		s.tb.Errorf("fakeentra: SetLastSignIn: no credential with keyId %q", keyID)
	}
}

// recordSignIn sets c's last sign-in and adds it to the report if needed;
// s.mu must be held.
func (s *Server) recordSignIn(a *app, c *cred, t time.Time) {
	t = t.UTC()
	c.LastSignIn = &t
	k := strings.ToLower(c.KeyID)
	if s.signInByKey[k] != nil {
		return
	}
	e := &signInEntry{seq: len(s.signIns), id: uuid.NewString(), keyID: c.KeyID, app: a}
	s.signIns = append(s.signIns, e)
	s.signInByKey[k] = e
	ak := strings.ToLower(a.appID)
	s.signInByApp[ak] = append(s.signInByApp[ak], e)
}

// signInRow is a report row copied out from under the lock.
type signInRow struct {
	id, keyID, appID, appObjectID string
	end, last                     time.Time
	created                       time.Time
}

// signInActivities serves GET /beta/reports/appCredentialSignInActivities
// with $filter (eq on id, keyId, appId, appObjectId), $top and $skiptoken.
// $select is accepted and ignored. Removed credentials drop out.
func (s *Server) signInActivities(x *exchange) {
	q, err := parseQuery(x.r.URL.RawQuery)
	var cs []clause
	if err == nil {
		cs, err = parseFilter(q.filter, &signInType)
	}
	if err != nil {
		x.graphError(http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	s.mu.Lock()
	if st, code, msg := s.signInFailureError(); st != 0 {
		s.mu.Unlock()
		x.graphError(st, code, msg)
		return
	}
	if !s.signInEnabled {
		s.mu.Unlock()
		x.graphError(http.StatusForbidden, "Authorization_RequestDenied",
			"Neither tenant is B2C or tenant doesn't have premium license")
		return
	}
	cands := s.signIns
	for _, c := range cs {
		switch {
		case c.kind == clauseEq && c.prop == "appId":
			cands = s.signInByApp[strings.ToLower(c.val)]
		case c.kind == clauseEq && c.prop == "keyId":
			cands = nil
			if e := s.signInByKey[strings.ToLower(c.val)]; e != nil {
				cands = []*signInEntry{e}
			}
		default:
			continue
		}
		break
	}
	page, more := pageOf(cands, func(e *signInEntry) int { return e.seq }, q.after, q.top,
		func(e *signInEntry) bool { return e.app.cred(e.keyID) != nil && matchAll(cs, e) })
	rows := make([]signInRow, len(page))
	for i, e := range page {
		c := e.app.cred(e.keyID)
		rows[i] = signInRow{id: e.id, keyID: e.keyID, appID: e.app.appID, appObjectID: e.app.id,
			end: c.End, last: *c.LastSignIn, created: c.Start}
	}
	last := 0
	if more {
		last = page[len(page)-1].seq
	}
	s.mu.Unlock()
	x.stream(http.StatusOK, func(b *bufio.Writer) {
		o := beginObj(b)
		o.str("@odata.context", x.context("reports/appCredentialSignInActivities", nil, false))
		if more {
			o.str("@odata.nextLink", x.nextLink(q, last))
		}
		o.key("value")
		b.WriteByte('[')
		for i, r := range rows {
			if i > 0 {
				b.WriteByte(',')
			}
			ro := beginObj(b)
			ro.str("id", r.id)
			ro.str("keyId", r.keyID)
			ro.str("appId", r.appID)
			ro.str("appObjectId", r.appObjectID)
			ro.str("credentialOrigin", "application")
			ro.str("keyType", "clientSecret")
			ro.str("keyUsage", "verify")
			ro.time("createdDateTime", r.created)
			ro.time("expirationDateTime", r.end)
			ro.key("signInActivity")
			so := beginObj(b)
			so.time("lastSignInDateTime", r.last)
			so.end()
			ro.end()
		}
		b.WriteByte(']')
		o.end()
	})
}
