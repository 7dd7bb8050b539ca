package fakeentra

import (
	"bufio"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// appView is an application copied out from under the lock for encoding;
// creds is a private copy already filtered for replication lag.
type appView struct {
	app
	ownerIDs []ownerRef // with $expand=owners
}

// writeApp writes an application's properties selected by mask.
func writeApp(o *objWriter, v *appView, mask uint32) {
	for i, p := range appType.props {
		if mask&(1<<i) == 0 {
			continue
		}
		switch p {
		case "createdDateTime":
			o.time(p, v.created)
		case "tags":
			o.strs(p, v.tags)
		case "passwordCredentials":
			o.key(p)
			o.b.WriteByte('[')
			for j := range v.creds {
				if j > 0 {
					o.b.WriteByte(',')
				}
				co := beginObj(o.b)
				writeCred(&co, &v.creds[j].Credential, false)
				co.end()
			}
			o.b.WriteByte(']')
		case "displayName":
			o.strOrNull(p, v.displayName)
		default:
			o.str(p, v.str(p))
		}
	}
}

// writeCred writes a passwordCredential; secretText only when withSecret.
func writeCred(o *objWriter, c *Credential, withSecret bool) {
	o.null("customKeyIdentifier")
	o.strOrNull("displayName", c.DisplayName)
	o.time("endDateTime", c.End)
	o.strOrNull("hint", c.Hint)
	o.str("keyId", c.KeyID)
	if withSecret {
		o.str("secretText", c.SecretText)
	} else {
		o.null("secretText")
	}
	o.time("startDateTime", c.Start)
}

// listApplications serves GET /v1.0/applications with $filter, $select,
// $top and $skiptoken. Pages follow creation order; the skiptoken is the
// sequence number of the last application returned, so each page costs
// O(log n + page) when the filter has an indexed clause (tags/any, appId eq,
// id eq). Credentials added less than the replication lag ago are left out.
func (s *Server) listApplications(x *exchange) {
	q, err := parseQuery(x.r.URL.RawQuery)
	var mask uint32
	var cs []clause
	if err == nil {
		mask, err = appType.selectMask(q.sel)
	}
	if err == nil {
		cs, err = parseFilter(q.filter, &appType)
	}
	var owners bool
	if err == nil {
		owners, err = parseOwnersExpand(&q)
	}
	if err != nil {
		x.graphError(http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	s.mu.Lock()
	cands := s.appCandidates(cs)
	page, more := pageOf(cands, func(a *app) int { return a.seq }, q.after, q.top,
		func(a *app) bool { return matchAll(cs, a) })
	views := s.viewApps(page, mask&(1<<6) != 0)
	if owners {
		for i, a := range page {
			views[i].ownerIDs = a.ownerList()
		}
	}
	last := 0
	if more {
		last = page[len(page)-1].seq
	}
	s.mu.Unlock()
	x.stream(http.StatusOK, func(b *bufio.Writer) {
		o := beginObj(b)
		o.str("@odata.context", x.context("applications", q.sel, false))
		if more {
			o.str("@odata.nextLink", x.nextLink(q, last))
		}
		o.key("value")
		b.WriteByte('[')
		for i := range views {
			if i > 0 {
				b.WriteByte(',')
			}
			ao := beginObj(b)
			writeApp(&ao, &views[i], mask)
			if owners {
				writeOwners(&ao, views[i].ownerIDs)
			}
			ao.end()
		}
		b.WriteByte(']')
		o.end()
	})
}

// appCandidates picks the smallest index that the filter allows to scan;
// s.mu must be held.
func (s *Server) appCandidates(cs []clause) []*app {
	cands := s.apps
	for _, c := range cs {
		var idx []*app
		switch {
		case c.kind == clauseAny && c.prop == "tags":
			idx = s.appsByTag[strings.ToLower(c.val)]
		case c.kind == clauseEq && c.prop == "id":
			if a := s.appByID[strings.ToLower(c.val)]; a != nil {
				idx = []*app{a}
			}
		case c.kind == clauseEq && c.prop == "appId":
			if a := s.appByAppID[strings.ToLower(c.val)]; a != nil {
				idx = []*app{a}
			}
		default:
			continue
		}
		if len(idx) < len(cands) {
			cands = idx
		}
	}
	return cands
}

// viewApps copies a page of applications for encoding outside the lock,
// hiding credentials younger than the replication lag. All the page's
// credentials share one allocation. s.mu must be held.
func (s *Server) viewApps(page []*app, withCreds bool) []appView {
	views := make([]appView, len(page))
	n := 0
	if withCreds {
		for _, a := range page {
			n += len(a.creds)
		}
	}
	all := make([]cred, 0, n)
	now := s.now()
	for i, a := range page {
		views[i].app = *a
		views[i].creds = nil
		if !withCreds {
			continue
		}
		start := len(all)
		for _, c := range a.creds {
			if lagHidden(c.added, now, s.replLag) {
				continue
			}
			all = append(all, c)
		}
		views[i].creds = all[start:len(all):len(all)]
	}
	return views
}

// lagHidden reports whether a credential added at added (unix ns) is still
// invisible to GETs at now under lag.
func lagHidden(added int64, now time.Time, lag time.Duration) bool {
	return lag > 0 && added != 0 && now.Sub(time.Unix(0, added)) < lag
}

// parseOwnersExpand accepts the one expansion apppass uses,
// owners($select=id) (or owners), and holds the page to Graph's limit for
// expanded listings: at most 100, 100 by default. Any other expansion
// answers 400, as an unsupported one would on Graph.
func parseOwnersExpand(q *odataQuery) (bool, error) {
	if q.expand == "" {
		return false, nil
	}
	e := strings.ToLower(strings.ReplaceAll(q.expand, " ", ""))
	if e != "owners" && e != "owners($select=id)" {
		return false, fmt.Errorf("fakeentra expands only owners($select=id) on applications, not %q", q.expand)
	}
	if q.topSet && q.top > maxExpandPageSize {
		return false, fmt.Errorf("Invalid page size specified: '%d'. Must be between 1 and %d inclusive when $expand is used.", q.top, maxExpandPageSize)
	}
	return true, nil
}

// writeOwners writes an expanded owners relationship: each owner's
// @odata.type and id.
func writeOwners(o *objWriter, owners []ownerRef) {
	o.key("owners")
	o.b.WriteByte('[')
	for i, ow := range owners {
		if i > 0 {
			o.b.WriteByte(',')
		}
		oo := beginObj(o.b)
		oo.str("@odata.type", ow.odataType)
		oo.str("id", ow.id)
		oo.end()
	}
	o.b.WriteByte(']')
}
