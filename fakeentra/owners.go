package fakeentra

import (
	"bufio"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// ServicePrincipalID is the object ID of apppass's own service principal
// (the enterprise application of [ClientID]). Graph makes the calling
// service principal an owner of every application it creates, so every
// application created over HTTP with a token of [ClientID] lists it in
// GET /applications/{id}/owners; seeded applications ([Server.Seed]) do
// too. Look-alikes ([Server.AddLookalikeApplication]) do not.
const ServicePrincipalID = "9c4e2f7a-1b3d-4e6f-8a2c-5d7b9e1f3a60"

// OpListOwners is the op of GET /v1.0/applications/{id}/owners.
const OpListOwners = "listOwners"

// ownerRef is a directory object owning an application.
type ownerRef struct {
	id, odataType string // odataType e.g. "#microsoft.graph.servicePrincipal"
}

// callerClientID returns the client ID of the token on x's request, or "".
func (s *Server) callerClientID(x *exchange) string {
	_, tok, _ := strings.Cut(x.r.Header.Get("Authorization"), " ")
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens[strings.TrimSpace(tok)].clientID
}

// ownersFor returns the owners Graph gives an application created by
// clientID: the caller's service principal.
func ownersFor(clientID string) []ownerRef {
	if eq(clientID, ClientID) {
		return []ownerRef{{ServicePrincipalID, "#microsoft.graph.servicePrincipal"}}
	}
	return nil
}

// Owners returns the object IDs of the owners of the application with the
// given object ID or appId, and whether it exists.
func (s *Server) Owners(appObjectID string) ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.appByID[strings.ToLower(appObjectID)]
	if a == nil {
		a = s.appByAppID[strings.ToLower(appObjectID)]
	}
	if a == nil {
		return nil, false
	}
	var out []string
	for _, o := range a.ownerList() {
		out = append(out, o.id)
	}
	return out, true
}

// ownerList returns a's owners; seeded applications are apppass's.
func (a *app) ownerList() []ownerRef {
	if a.seeded && a.owners == nil {
		return ownersFor(ClientID)
	}
	return a.owners
}

// AddLookalikeApplication creates, without HTTP, an application that
// imitates one of apppass's: displayName "App passwords – {victim's UPN}",
// tags "apppass" and "apppass:owner:{victimUserID}", a service principal
// and no credentials, but owned by ownerID (e.g. the user who registered
// it) instead of apppass's service principal. Anyone allowed to register
// applications can make one; apppass must never use, list or issue
// passwords on it. It returns the application's snapshot.
func (s *Server) AddLookalikeApplication(victimUserID, ownerID string) Application {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := victimUserID
	if u := s.findUser(victimUserID); u != nil {
		name = u.UserPrincipalName
	}
	typ := "#microsoft.graph.servicePrincipal"
	if s.findUser(ownerID) != nil {
		typ = "#microsoft.graph.user"
	}
	a := &app{
		id: uuid.NewString(), appID: uuid.NewString(), displayName: "App passwords – " + name,
		signInAudience: "AzureADMyOrg", tags: []string{"apppass", OwnerTagPrefix + victimUserID},
		created: s.now().UTC(), seeded: true, hasSP: true,
		owners: []ownerRef{{ownerID, typ}},
	}
	s.insertApp(a)
	s.spCount++
	return a.snapshot()
}

// listOwners serves GET /v1.0/applications/{id}/owners (also by
// applications(appId='…')): the owners as directory objects, each with
// @odata.type and id ($select=id is accepted; other properties are not
// modelled and answer 400).
func (s *Server) listOwners(x *exchange) {
	q, err := parseQuery(x.r.URL.RawQuery)
	if err == nil {
		for _, p := range q.sel {
			if !eq(p, "id") {
				x.graphError(http.StatusBadRequest, "BadRequest",
					"fakeentra models only the id of owners; $select="+p+" is not supported.")
				return
			}
		}
	}
	if err != nil {
		x.graphError(http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	s.mu.Lock()
	a := s.findApp(x.args)
	var owners []ownerRef
	if a != nil {
		owners = append(owners, a.ownerList()...)
	}
	s.mu.Unlock()
	if a == nil {
		x.notFound(x.args[1])
		return
	}
	x.stream(http.StatusOK, func(b *bufio.Writer) {
		o := beginObj(b)
		o.str("@odata.context", x.context("directoryObjects", q.sel, false))
		o.key("value")
		b.WriteByte('[')
		for i, ow := range owners {
			if i > 0 {
				b.WriteByte(',')
			}
			oo := beginObj(b)
			oo.str("@odata.type", ow.odataType)
			oo.str("id", ow.id)
			oo.end()
		}
		b.WriteByte(']')
		o.end()
	})
}

// SetServicePrincipalLag makes POST /servicePrincipals fail for an
// application created over HTTP less than d ago (by the fake's clock), as
// Entra does while the new application replicates: 400 Request_BadRequest
// "The appId '…' of the service principal does not reference a valid
// application object." or, with forbidden (what a caller holding only
// Application.ReadWrite.OwnedBy sees), 403 Authorization_RequestDenied
// "When using this permission, the backing application of the service
// principal being created must in the local tenant". d <= 0 turns it off.
func (s *Server) SetServicePrincipalLag(d time.Duration, forbidden bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spLag, s.spLagForbidden = d, forbidden
}

// spLagError returns the replication error (status, code, message) when
// a's service principal cannot be created yet, or status 0; s.mu must be
// held.
func (s *Server) spLagError(a *app, appID string) (int, string, string) {
	if s.spLag <= 0 || a.seeded || s.now().Sub(a.created) >= s.spLag {
		return 0, "", ""
	}
	if s.spLagForbidden {
		return http.StatusForbidden, "Authorization_RequestDenied",
			"When using this permission, the backing application of the service principal being created must in the local tenant"
	}
	return http.StatusBadRequest, "Request_BadRequest",
		"The appId '" + appID + "' of the service principal does not reference a valid application object."
}
