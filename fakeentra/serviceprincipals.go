package fakeentra

import (
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// servicePrincipal is a service principal created over HTTP. Seeded
// applications only carry a flag ([Application.HasServicePrincipal]).
type servicePrincipal struct {
	id, appID, displayName string
	tags                   []string
}

// createServicePrincipal serves POST /v1.0/servicePrincipals. It answers 400
// when appId names no application, 409 when the application already has a
// service principal, Directory_QuotaExceeded past the object quota, and
// replication errors for a young application (see
// [Server.SetServicePrincipalLag]).
func (s *Server) createServicePrincipal(x *exchange) {
	var body struct {
		AppID string   `json:"appId"`
		Tags  []string `json:"tags"`
	}
	if !x.decodeJSON(&body) {
		return
	}
	s.mu.Lock()
	a := s.appByAppID[strings.ToLower(body.AppID)]
	if a != nil {
		if st, code, msg := s.spLagError(a, body.AppID); st != 0 {
			s.mu.Unlock()
			x.graphError(st, code, msg)
			return
		}
	}
	switch {
	case a == nil:
		s.mu.Unlock()
		x.badRequest("The appId '" + body.AppID + "' of the service principal does not reference a valid application object.")
		return
	case a.hasSP:
		s.mu.Unlock()
		x.graphError(http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue",
			"The service principal cannot be created, updated, or restored because the service principal name "+a.appID+" is already in use.")
		return
	case s.quotaExceeded(x):
		s.mu.Unlock()
		return
	}
	sp := &servicePrincipal{id: uuid.NewString(), appID: a.appID, displayName: a.displayName, tags: append([]string{}, body.Tags...)}
	a.hasSP = true
	s.sps[strings.ToLower(a.appID)] = sp
	s.spCount++
	s.mu.Unlock()
	x.object(http.StatusCreated, func(o *objWriter) {
		o.str("@odata.context", x.context("servicePrincipals", nil, true))
		o.str("id", sp.id)
		o.boolean("accountEnabled", true)
		o.str("appId", sp.appID)
		o.strOrNull("displayName", sp.displayName)
		o.str("servicePrincipalType", "Application")
		o.strs("servicePrincipalNames", []string{sp.appID})
		o.strs("tags", sp.tags)
	})
}

// ServicePrincipalTags returns the tags of the service principal created
// over HTTP for appID, and whether there is one.
func (s *Server) ServicePrincipalTags(appID string) ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.sps[strings.ToLower(appID)]
	if sp == nil {
		return nil, false
	}
	return append([]string{}, sp.tags...), true
}
