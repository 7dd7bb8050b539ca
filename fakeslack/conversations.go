package fakeslack

// apiConversationsInfo serves conversations.info for a channel registered
// with AddChannel or AddChannelWithoutBot. As in real Slack, is_member
// tells whether the bot is in the channel, and a channel the bot cannot
// see (private, bot not invited) is channel_not_found; this fake treats
// every channel as public, so it answers for any registered one.
func (s *Server) apiConversationsInfo(r *apiRequest) (map[string]any, string) {
	id := r.params["channel"]
	ch, ok := s.st.channels[id]
	if !ok {
		return nil, "channel_not_found"
	}
	return map[string]any{"channel": map[string]any{
		"id":          ch.id,
		"name":        channelName(ch.id),
		"is_channel":  true,
		"is_private":  false,
		"is_member":   ch.botMember,
		"num_members": len(ch.members),
	}}, ""
}
