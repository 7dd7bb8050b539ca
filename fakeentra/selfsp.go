package fakeentra

import (
	"net/http"
	"strings"
)

// OpGetServicePrincipal is the op of
// GET /v1.0/servicePrincipals(appId='{appId}'): a client reading a
// service principal by its application's client ID. A service principal
// may read its own without any permission, which is how apppass learns
// its own object ID ([ServicePrincipalID]).
const OpGetServicePrincipal = "getServicePrincipal"

// getServicePrincipal serves GET /v1.0/servicePrincipals(appId='…'):
// apppass's own ([ClientID] → [ServicePrincipalID]) or one created over
// HTTP; 404 Request_ResourceNotFound otherwise.
func (s *Server) getServicePrincipal(x *exchange) {
	appID := x.args[0]
	id, displayName := "", ""
	if eq(appID, ClientID) {
		id, displayName = ServicePrincipalID, "apppass"
	} else {
		s.mu.Lock()
		if sp := s.sps[strings.ToLower(appID)]; sp != nil {
			id, displayName = sp.id, sp.displayName
		}
		s.mu.Unlock()
	}
	if id == "" {
		x.notFound(appID)
		return
	}
	x.object(http.StatusOK, func(o *objWriter) {
		o.str("@odata.context", x.context("servicePrincipals", nil, true))
		o.str("id", id)
		o.str("appId", appID)
		o.strOrNull("displayName", displayName)
	})
}
