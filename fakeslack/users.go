package fakeslack

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"
)

// apiAuthTest serves auth.test for the bot token.
func (s *Server) apiAuthTest(*apiRequest) (map[string]any, string) {
	return map[string]any{
		"url":     "https://" + TeamDomain + ".slack.com/",
		"team":    "Fake Workspace",
		"user":    BotName,
		"team_id": TeamID,
		"user_id": BotUserID,
		"bot_id":  BotID,
	}, ""
}

// apiUsersInfo serves users.info (user=U1, or users=U1,U2 as slack-go's
// GetUsersInfo sends).
func (s *Server) apiUsersInfo(r *apiRequest) (map[string]any, string) {
	if list := r.params["users"]; list != "" {
		var users []map[string]any
		for _, id := range strings.Split(list, ",") {
			u, ok := s.st.users[id]
			if !ok {
				return nil, "user_not_found"
			}
			users = append(users, s.userJSONLocked(u))
		}
		return map[string]any{"users": users}, ""
	}
	u, ok := s.st.users[r.params["user"]]
	if !ok {
		return nil, "user_not_found"
	}
	return map[string]any{"user": s.userJSONLocked(u)}, ""
}

// apiUsersList serves users.list with cursor paging. limit<=0 returns all
// remaining users; cursors are opaque ("user:<next id>", base64).
func (s *Server) apiUsersList(r *apiRequest) (map[string]any, string) {
	start := 0
	if c := r.params["cursor"]; c != "" {
		dec, err := base64.StdEncoding.DecodeString(c)
		id, ok := strings.CutPrefix(string(dec), "user:")
		start = slices.Index(s.st.userOrder, id)
		if err != nil || !ok || start < 0 {
			return nil, "invalid_cursor"
		}
	}
	end := len(s.st.userOrder)
	if limit, _ := strconv.Atoi(r.params["limit"]); limit > 0 && start+limit < end {
		end = start + limit
	}
	members := []map[string]any{}
	for _, id := range s.st.userOrder[start:end] {
		members = append(members, s.userJSONLocked(s.st.users[id]))
	}
	next := ""
	if end < len(s.st.userOrder) {
		next = base64.StdEncoding.EncodeToString([]byte("user:" + s.st.userOrder[end]))
	}
	return map[string]any{
		"members":           members,
		"cache_ts":          s.nowLocked().Unix(),
		"response_metadata": map[string]any{"next_cursor": next},
	}, ""
}

// apiUsersLookupByEmail serves users.lookupByEmail. Like real Slack it does
// not find deactivated users.
func (s *Server) apiUsersLookupByEmail(r *apiRequest) (map[string]any, string) {
	email := r.params["email"]
	for _, id := range s.st.userOrder {
		u := s.st.users[id]
		if u.Email != "" && strings.EqualFold(u.Email, email) && !u.Deleted {
			return map[string]any{"user": s.userJSONLocked(u)}, ""
		}
	}
	return nil, "users_not_found"
}

// apiConversationsOpen serves conversations.open for a DM with one user;
// the channel ID is "D"+userID.
func (s *Server) apiConversationsOpen(r *apiRequest) (map[string]any, string) {
	var id, userID string
	switch {
	case r.params["channel"] != "":
		id = r.params["channel"]
		if !s.st.dms[id] {
			return nil, "channel_not_found"
		}
		userID = strings.TrimPrefix(id, "D")
	case r.params["users"] != "":
		userID = r.params["users"]
		if strings.Contains(userID, ",") {
			return nil, "fakeslack_mpim_not_supported"
		}
		u, ok := s.st.users[userID]
		switch {
		case !ok:
			return nil, "user_not_found"
		case u.Deleted:
			return nil, "user_disabled"
		}
		id = dmChannelID(userID)
	default:
		return nil, "users_list_not_supplied"
	}
	already := s.st.dms[id]
	s.st.dms[id] = true
	ch := map[string]any{"id": id}
	if r.params["return_im"] == "true" {
		ch["created"] = s.nowLocked().Unix()
		ch["is_im"] = true
		ch["is_open"] = true
		ch["user"] = userID
	}
	return map[string]any{"channel": ch, "no_op": already, "already_open": already}, ""
}

// userJSONLocked renders u like Slack's user object: deactivated users keep
// their profile email; guests carry is_restricted / is_ultra_restricted,
// external users is_stranger; inside Enterprise Grid, enterprise_user.
func (s *Server) userJSONLocked(u *User) map[string]any {
	tz := u.TZ
	if tz == "" {
		tz = "America/Los_Angeles"
	}
	offset := 0
	if loc, err := time.LoadLocation(tz); err == nil {
		_, offset = time.Now().In(loc).Zone()
	}
	profile := map[string]any{
		"real_name":               u.RealName,
		"real_name_normalized":    u.RealName,
		"display_name":            u.Name,
		"display_name_normalized": u.Name,
		"team":                    u.TeamID,
	}
	if u.Email != "" && !u.IsBot {
		profile["email"] = u.Email
	}
	if u.IsBot && u.ID == BotUserID {
		profile["bot_id"] = BotID
		profile["api_app_id"] = AppID
	}
	out := map[string]any{
		"id":                  u.ID,
		"team_id":             u.TeamID,
		"name":                u.Name,
		"deleted":             u.Deleted,
		"color":               "9f69e7",
		"real_name":           u.RealName,
		"tz":                  tz,
		"tz_label":            tz,
		"tz_offset":           offset,
		"profile":             profile,
		"is_bot":              u.IsBot,
		"is_admin":            false,
		"is_owner":            false,
		"is_app_user":         false,
		"is_restricted":       u.IsRestricted || u.IsUltraRestricted,
		"is_ultra_restricted": u.IsUltraRestricted,
		"is_email_confirmed":  u.Email != "",
		"updated":             1700000000,
	}
	if u.IsStranger {
		out["is_stranger"] = true
	}
	if org := s.originLocked(u.ID, Origin{}); org.EnterpriseID != "" {
		out["enterprise_user"] = map[string]any{
			"id": u.ID, "enterprise_id": org.EnterpriseID,
			"enterprise_name": s.enterpriseNameLocked(org.EnterpriseID),
			"is_admin":        false, "is_owner": false, "teams": []string{u.TeamID},
		}
	}
	return out
}
