package fakeentra

import (
	"bufio"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// User is a directory user as the fake stores it.
type User struct {
	ID                string // object ID; matched case-insensitively
	DisplayName       string // displayName
	UserPrincipalName string // userPrincipalName; matched case-insensitively
	Mail              string // mail ("" answers null); matched case-insensitively
	AccountEnabled    bool   // accountEnabled, returned only when $select'ed
	// ProxyAddresses are proxyAddresses ("SMTP:primary@…", "smtp:alias@…"),
	// returned only when $select'ed and filterable with any().
	ProxyAddresses []string
}

// user is a stored User with its position in creation order and the
// sequence number of its latest change (for delta queries).
type user struct {
	User
	seq     int
	changed int
}

func (u *user) str(prop string) string { return userProp(&u.User, prop) }

// userProp returns a user property as a string (booleans as "true"/"false").
func userProp(u *User, prop string) string {
	switch prop {
	case "id":
		return u.ID
	case "displayName":
		return u.DisplayName
	case "userPrincipalName":
		return u.UserPrincipalName
	case "mail":
		return u.Mail
	case "accountEnabled":
		if u.AccountEnabled {
			return "true"
		}
		return "false"
	}
	return ""
}

func (u *user) coll(prop string) []string {
	if prop == "proxyAddresses" {
		return u.ProxyAddresses
	}
	return nil
}

// userType lists the user properties the fake models. As on Graph v1.0,
// accountEnabled is returned only when asked for with $select.
var userType = entityType{
	name:     "microsoft.graph.user",
	props:    []string{"id", "displayName", "userPrincipalName", "mail", "accountEnabled", "proxyAddresses"},
	defaults: 0b01111,
	colls:    1 << 5,
}

// AddUser adds a user, or replaces the one with the same ID (restoring it
// if it was deleted), and records the change for delta queries. An empty ID
// gets a new GUID.
func (s *Server) AddUser(u User) {
	if u.ID == "" {
		u.ID = uuid.NewString()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putUser(u)
}

// putUser stores u, keeping the indexes right; s.mu must be held.
func (s *Server) putUser(u User) {
	id := strings.ToLower(u.ID)
	if old := s.userByID[id]; old != nil {
		delete(s.userByUPN, strings.ToLower(old.UserPrincipalName))
		if m := strings.ToLower(old.Mail); m != "" {
			s.userByMail[m] = removePtr(s.userByMail[m], old)
		}
		old.User = u
		s.indexUser(old)
		s.recordChange(old)
		return
	}
	delete(s.tombstones, id) // adding a deleted user's ID restores it
	nu := &user{User: u, seq: s.userSeq}
	s.userSeq++
	s.users = append(s.users, nu)
	s.userByID[id] = nu
	s.indexUser(nu)
	s.recordChange(nu)
}

// indexUser adds u to the UPN and mail indexes.
func (s *Server) indexUser(u *user) {
	if upn := strings.ToLower(u.UserPrincipalName); upn != "" {
		s.userByUPN[upn] = u
	}
	if m := strings.ToLower(u.Mail); m != "" {
		list := s.userByMail[m]
		i := len(list)
		for i > 0 && list[i-1].seq > u.seq {
			i--
		}
		s.userByMail[m] = append(list[:i:i], append([]*user{u}, list[i:]...)...)
	}
}

// removePtr returns list without p.
func removePtr[T any](list []*T, p *T) []*T {
	for i, q := range list {
		if q == p {
			return append(list[:i:i], list[i+1:]...)
		}
	}
	return list
}

// LookupUser finds a user by object ID or, case-insensitively, by user
// principal name, as GET /users/{id-or-upn} does.
func (s *Server) LookupUser(idOrUPN string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.findUser(idOrUPN); u != nil {
		return u.User, true
	}
	return User{}, false
}

// findUser looks a user up by ID or UPN; s.mu must be held.
func (s *Server) findUser(idOrUPN string) *user {
	k := strings.ToLower(idOrUPN)
	if u := s.userByID[k]; u != nil {
		return u
	}
	return s.userByUPN[k]
}

// writeUser writes u's properties selected by mask.
func writeUser(o *objWriter, u *User, mask uint32) {
	for i, p := range userType.props {
		if mask&(1<<i) == 0 {
			continue
		}
		switch p {
		case "accountEnabled":
			o.boolean(p, u.AccountEnabled)
		case "proxyAddresses":
			o.strs(p, u.ProxyAddresses)
		case "mail", "displayName":
			o.strOrNull(p, userProp(u, p))
		default:
			o.str(p, userProp(u, p))
		}
	}
}

// getUser serves GET /v1.0/users/{id-or-upn}. A key Graph cannot take in a
// path answers 400 (see [Server.RejectUserPath]).
func (s *Server) getUser(x *exchange) {
	q, err := parseQuery(x.r.URL.RawQuery)
	var mask uint32
	if err == nil {
		mask, err = userType.selectMask(q.sel)
	}
	if err != nil {
		x.graphError(http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	if s.userPathError(x, x.args[0]) {
		return
	}
	s.mu.Lock()
	u := s.findUser(x.args[0])
	var snap User
	if u != nil {
		snap = u.User
	}
	s.mu.Unlock()
	if u == nil {
		x.notFound(x.args[0])
		return
	}
	x.object(http.StatusOK, func(o *objWriter) {
		o.str("@odata.context", x.context("users", q.sel, true))
		writeUser(o, &snap, mask)
	})
}

// filterUsers serves GET /v1.0/users?$filter=… with paging.
func (s *Server) filterUsers(x *exchange) {
	q, err := parseQuery(x.r.URL.RawQuery)
	var mask uint32
	var cs []clause
	if err == nil {
		mask, err = userType.selectMask(q.sel)
	}
	if err == nil {
		cs, err = parseFilter(q.filter, &userType)
	}
	if err != nil {
		x.graphError(http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	s.mu.Lock()
	cands := s.users
	for _, c := range cs {
		var idx []*user
		switch {
		case c.kind == clauseEq && c.prop == "mail":
			idx = s.userByMail[strings.ToLower(c.val)]
		case c.kind == clauseEq && (c.prop == "id" || c.prop == "userPrincipalName"):
			if u := s.findUser(c.val); u != nil {
				idx = []*user{u}
			}
		default:
			continue
		}
		if len(idx) < len(cands) {
			cands = idx
		}
	}
	page, more := pageOf(cands, func(u *user) int { return u.seq }, q.after, q.top,
		func(u *user) bool { return matchAll(cs, u) })
	snap := make([]User, len(page))
	for i, u := range page {
		snap[i] = u.User
	}
	last := 0
	if more {
		last = page[len(page)-1].seq
	}
	s.mu.Unlock()
	x.stream(http.StatusOK, func(b *bufio.Writer) {
		o := beginObj(b)
		o.str("@odata.context", x.context("users", q.sel, false))
		if more {
			o.str("@odata.nextLink", x.nextLink(q, last))
		}
		o.key("value")
		b.WriteByte('[')
		for i := range snap {
			if i > 0 {
				b.WriteByte(',')
			}
			uo := beginObj(b)
			writeUser(&uo, &snap[i], mask)
			uo.end()
		}
		b.WriteByte(']')
		o.end()
	})
}
