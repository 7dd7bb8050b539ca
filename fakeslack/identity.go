package fakeslack

import "context"

// ExternalTeamID is a Slack Connect partner organisation's team, used by
// [Server.AddExternalUser] when no team is given.
const ExternalTeamID = "T9EXTERNAL"

// Origin is the team and Enterprise Grid organisation a payload claims to
// come from: team_id / team.id and enterprise_id / enterprise.id. Real
// Slack sets them from where the person acted; apps must check them.
type Origin struct {
	TeamID       string // empty: the acting user's team
	EnterpriseID string // empty: the acting user's organisation, if any
}

// SetEnterprise makes the fake workspace part of the Enterprise Grid
// organisation id (named name), as a workspace of a Grid org is: from then
// on every payload of a home-team user (slash commands, block_actions,
// view_submission) carries enterprise_id / enterprise {id, name}, every
// event_callback carries enterprise_id and authorizations[].enterprise_id,
// and users.info shows home-team users with an enterprise_user object. An
// empty id turns Grid off again.
func (s *Server) SetEnterprise(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.enterpriseID, s.st.enterpriseName = id, name
}

// AddGuestUser adds a guest of the workspace: a multi-channel guest
// (is_restricted) or, with singleChannel, a single-channel guest
// (is_restricted and is_ultra_restricted), as users.info shows them.
func (s *Server) AddGuestUser(u User, singleChannel bool) {
	u.IsRestricted = true
	u.IsUltraRestricted = singleChannel
	s.AddUser(u)
}

// AddExternalUser adds a Slack Connect user from another organisation:
// users.info shows their own team_id (teamID, or [ExternalTeamID] when
// empty) and is_stranger, and their payloads carry that team. Their profile
// email is returned like any other user's: apps must refuse them by team,
// not by email.
func (s *Server) AddExternalUser(u User, teamID string) {
	if teamID == "" {
		teamID = ExternalTeamID
	}
	u.TeamID = teamID
	u.IsStranger = true
	s.AddUser(u)
}

// DeactivateUser marks a member deactivated (deleted: true), as when an
// admin deactivates a leaver's account: users.info still returns them with
// their profile email (with the users:read.email scope, as real Slack
// does), users.list still lists them, users.lookupByEmail answers
// users_not_found, and DMs to them fail with user_disabled. It reports
// whether the user exists.
func (s *Server) DeactivateUser(userID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.st.users[userID]
	if ok {
		u.Deleted = true
	}
	return ok
}

// SlashCommandFrom sends a slash command like [Server.SlashCommand], but
// with the payload's team_id and enterprise_id taken from o (e.g. a
// payload from another workspace of the same Grid, or from a foreign team).
func (s *Server) SlashCommandFrom(ctx context.Context, o Origin, userID, channelID, command, text string) (*Interaction, error) {
	return s.slashCommand(ctx, o, userID, channelID, command, text)
}

// originLocked resolves the team and enterprise a payload of userID carries,
// with o's non-empty fields taking precedence.
func (s *Server) originLocked(userID string, o Origin) Origin {
	team := s.st.teamOf(userID)
	ent := ""
	if u, ok := s.st.users[userID]; ok && u.EnterpriseID != "" {
		ent = u.EnterpriseID
	} else if team == TeamID {
		ent = s.st.enterpriseID
	}
	if o.TeamID != "" {
		team = o.TeamID
	}
	if o.EnterpriseID != "" {
		ent = o.EnterpriseID
	}
	return Origin{TeamID: team, EnterpriseID: ent}
}

// enterpriseNameLocked is the display name of enterprise id.
func (s *Server) enterpriseNameLocked(id string) string {
	if id == s.st.enterpriseID && s.st.enterpriseName != "" {
		return s.st.enterpriseName
	}
	return "Enterprise " + id
}

// enterpriseObjLocked is the "enterprise" field of interactive payloads:
// {"id", "name"} inside Grid, null outside.
func (s *Server) enterpriseObjLocked(id string) any {
	if id == "" {
		return nil
	}
	return map[string]any{"id": id, "name": s.enterpriseNameLocked(id)}
}
