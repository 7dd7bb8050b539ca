package fakeentra

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Users delta query (GET /v1.0/users/delta), as Graph serves it:
//
//   - The first request (no state token) is a full sync: every user that
//     exists, in pages of 100 (or $top, or Prefer: odata.maxpagesize=N),
//     linked by @odata.nextLink; the last page carries @odata.deltaLink
//     instead. $select given on the first request is kept in the state
//     tokens, as Graph does; links need no query options of their own.
//   - Calling the deltaLink returns only the users changed since that link
//     was issued (created, updated, disabled or enabled: with the selected
//     properties), and the users removed since as
//     {"id": "…", "@removed": {"reason": "changed"}} (soft-deleted, restorable
//     for 30 days) or {"reason": "deleted"} (permanently deleted), paged the
//     same way and ending with a new deltaLink. A user changed several times
//     appears once, in its latest state.
//   - $deltatoken=latest answers no users and a deltaLink from now ("sync
//     from now"), as Entra ID resources allow.
//   - A token that is malformed or was expired by [Server.ExpireDeltaLinks]
//     answers code syncStateNotFound ("The sync state generation is not
//     found. The delta token is expired and data must be synchronized
//     again."): 410 Gone by default, as the delta-query overview describes,
//     or 400 Bad Request, as Microsoft documents for identity resources
//     (delta links expire after 7 days). The client must then start again
//     with a full sync.
//
// Changes are recorded by [Server.AddUser], [Server.DisableUser],
// [Server.EnableUser], [Server.DeleteUser] and [Server.PurgeUser], each with
// a sequence number ([Server.DirectoryChangeSeq]).

// OpUsersDelta is the op of GET /v1.0/users/delta.
const OpUsersDelta = "usersDelta"

// tombstone is a removed user, kept for delta queries.
type tombstone struct {
	id      string
	reason  string // "changed" (soft-deleted) or "deleted" (purged)
	changed int
	user    User // the user as it was, for a restore by AddUser
}

// deltaState is what a delta or skip token encodes.
type deltaState struct {
	Gen   int      `json:"g"`           // token generation; ExpireDeltaLinks bumps it
	Full  bool     `json:"f,omitempty"` // paging a full sync (else a round of changes)
	Since int      `json:"s"`           // changes after this sequence number (rounds)
	Upto  int      `json:"u"`           // the change sequence when the sync or round began
	After int      `json:"a"`           // paging cursor: user seq (full) or change seq (round)
	Sel   []string `json:"sel,omitempty"`
	Top   int      `json:"t,omitempty"`
}

const deltaTokenPrefix = "fakeentra-delta:"

func encodeDelta(st deltaState) string {
	b, _ := json.Marshal(st)
	return base64.RawURLEncoding.EncodeToString(append([]byte(deltaTokenPrefix), b...))
}

func decodeDelta(tok string) (deltaState, bool) {
	var st deltaState
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(tok))
	if err != nil || !strings.HasPrefix(string(b), deltaTokenPrefix) {
		return st, false
	}
	return st, json.Unmarshal(b[len(deltaTokenPrefix):], &st) == nil
}

// recordChange stamps u with the next change sequence number; s.mu must be held.
func (s *Server) recordChange(u *user) {
	s.changeSeq++
	u.changed = s.changeSeq
}

// DirectoryChangeSeq returns the sequence number of the latest user change
// (creation, update, disable, enable, deletion) the fake recorded.
func (s *Server) DirectoryChangeSeq() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changeSeq
}

// DisableUser sets accountEnabled false on the user with id (object ID or
// UPN), as an administrator blocking sign-in does, and records the change
// for delta queries. It reports whether the user exists.
func (s *Server) DisableUser(id string) bool { return s.setEnabled(id, false) }

// EnableUser sets accountEnabled true and records the change.
func (s *Server) EnableUser(id string) bool { return s.setEnabled(id, true) }

func (s *Server) setEnabled(id string, on bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.findUser(id)
	if u == nil {
		return false
	}
	u.AccountEnabled = on
	s.recordChange(u)
	return true
}

// DeleteUser soft-deletes the user with id (object ID or UPN), as deleting
// a user in Entra does: GET /users/{id} and $filter no longer find it, and
// the next delta round reports it with "@removed": {"reason": "changed"}.
// AddUser with the same ID restores it. It reports whether the user existed.
func (s *Server) DeleteUser(id string) bool { return s.removeUser(id, "changed") }

// PurgeUser permanently deletes the user with id (also after DeleteUser):
// the next delta round reports "@removed": {"reason": "deleted"}.
func (s *Server) PurgeUser(id string) bool {
	s.mu.Lock()
	if t := s.tombstones[strings.ToLower(id)]; t != nil {
		s.changeSeq++
		t.reason, t.changed = "deleted", s.changeSeq
		s.mu.Unlock()
		return true
	}
	s.mu.Unlock()
	return s.removeUser(id, "deleted")
}

func (s *Server) removeUser(id, reason string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.findUser(id)
	if u == nil {
		return false
	}
	delete(s.userByID, strings.ToLower(u.ID))
	delete(s.userByUPN, strings.ToLower(u.UserPrincipalName))
	if m := strings.ToLower(u.Mail); m != "" {
		s.userByMail[m] = removePtr(s.userByMail[m], u)
	}
	i, _ := slices.BinarySearchFunc(s.users, u.seq, func(x *user, seq int) int { return x.seq - seq })
	s.users = slices.Delete(s.users, i, i+1)
	s.changeSeq++
	s.tombstones[strings.ToLower(u.ID)] = &tombstone{id: u.ID, reason: reason, changed: s.changeSeq, user: u.User}
	return true
}

// ExpireDeltaLinks invalidates every delta and skip token of users delta
// issued so far: their next use answers syncStateNotFound with status
// (0 means 410 Gone; 400 is what Microsoft documents for identity
// resources), as when a delta link is older than 7 days.
func (s *Server) ExpireDeltaLinks(status int) {
	if status == 0 {
		status = http.StatusGone
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deltaGen++
	s.deltaExpiredStatus = status
}

// deltaItem is one entry of a delta page, copied out from under the lock.
type deltaItem struct {
	u       User
	removed string
	id      string
}

// usersDelta serves GET /v1.0/users/delta.
func (s *Server) usersDelta(x *exchange) {
	vals, err := url.ParseQuery(x.r.URL.RawQuery)
	if err != nil {
		x.graphError(http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	get := func(k string) string {
		if v := vals.Get("$" + k); v != "" {
			return v
		}
		return vals.Get(k)
	}
	s.mu.Lock()
	st, ok, latest := deltaState{}, true, false
	switch tok := firstNonEmpty(get("deltatoken"), get("skiptoken")); {
	case tok == "latest":
		latest = true
	case tok != "":
		st, ok = decodeDelta(tok)
		ok = ok && st.Gen == s.deltaGen
	default:
		st = deltaState{Gen: s.deltaGen, Full: true, Upto: s.changeSeq, After: -1}
		if sel := get("select"); sel != "" {
			for _, p := range strings.Split(sel, ",") {
				st.Sel = append(st.Sel, strings.TrimSpace(p))
			}
		}
		st.Top = pageSizeOf(x.r, get("top"))
	}
	if !ok {
		status := s.deltaExpiredStatus
		if status == 0 {
			status = http.StatusGone
		}
		s.mu.Unlock()
		x.graphError(status, "syncStateNotFound",
			"The sync state generation is not found. The delta token is expired and data must be synchronized again.")
		return
	}
	mask, err := userType.selectMask(st.Sel)
	if err != nil {
		s.mu.Unlock()
		x.graphError(http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	top := st.Top
	if top <= 0 {
		top = defaultPageSize
	}
	var items []deltaItem
	more := false
	switch {
	case latest:
		st = deltaState{Gen: s.deltaGen, Since: s.changeSeq}
	case st.Full:
		page, m := pageOf(s.users, func(u *user) int { return u.seq }, st.After, top, nil)
		for _, u := range page {
			items = append(items, deltaItem{u: u.User})
		}
		if more = m; more {
			st.After = page[len(page)-1].seq
		} else {
			st = deltaState{Gen: s.deltaGen, Since: st.Upto, Sel: st.Sel, Top: st.Top}
		}
	default:
		items, more = s.changesAfter(&st, top)
	}
	s.mu.Unlock()

	link := x.s.URL() + "/" + x.version() + "/users/delta?"
	if more {
		link += "$skiptoken=" + encodeDelta(st)
	} else {
		link += "$deltatoken=" + encodeDelta(st)
	}
	x.stream(http.StatusOK, func(b *bufio.Writer) {
		o := beginObj(b)
		o.str("@odata.context", x.context("users", st.Sel, false))
		if more {
			o.str("@odata.nextLink", link)
		} else {
			o.str("@odata.deltaLink", link)
		}
		o.key("value")
		b.WriteByte('[')
		for i := range items {
			if i > 0 {
				b.WriteByte(',')
			}
			uo := beginObj(b)
			if items[i].removed != "" {
				uo.str("id", items[i].id)
				uo.key("@removed")
				ro := beginObj(b)
				ro.str("reason", items[i].removed)
				ro.end()
			} else {
				writeUser(&uo, &items[i].u, mask|1) // id always comes back
			}
			uo.end()
		}
		b.WriteByte(']')
		o.end()
	})
}

// changesAfter returns the next page of a round of changes (users changed
// and removed after st.Since, in change order) and advances st: to the next
// page's cursor, or to the next round when this was the last page. s.mu
// must be held.
func (s *Server) changesAfter(st *deltaState, top int) ([]deltaItem, bool) {
	type ch struct {
		seq  int
		item deltaItem
	}
	after := max(st.After, st.Since)
	var all []ch
	for _, u := range s.users {
		if u.changed > after {
			all = append(all, ch{u.changed, deltaItem{u: u.User}})
		}
	}
	for _, t := range s.tombstones {
		if t.changed > after {
			all = append(all, ch{t.changed, deltaItem{id: t.id, removed: t.reason}})
		}
	}
	slices.SortFunc(all, func(a, b ch) int { return a.seq - b.seq })
	if st.After < 0 || st.Upto == 0 {
		st.Upto = s.changeSeq
	}
	more := len(all) > top
	if more {
		all = all[:top]
	}
	items := make([]deltaItem, len(all))
	for i, c := range all {
		items[i] = c.item
	}
	if more {
		st.After = all[len(all)-1].seq
	} else {
		*st = deltaState{Gen: s.deltaGen, Since: max(st.Upto, after), Sel: st.Sel, Top: st.Top}
		if n := len(all); n > 0 {
			st.Since = max(st.Since, all[n-1].seq)
		}
	}
	return items, more
}

// pageSizeOf reads the page size of a delta request: $top, or the
// odata.maxpagesize preference.
func pageSizeOf(r *http.Request, top string) int {
	if n, err := strconv.Atoi(top); err == nil && n > 0 {
		return min(n, maxPageSize)
	}
	for _, pref := range strings.Split(r.Header.Get("Prefer"), ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(pref), "odata.maxpagesize="); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return min(n, maxPageSize)
			}
		}
	}
	return 0
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
