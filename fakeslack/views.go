package fakeslack

import (
	"encoding/json"
	"slices"
	"time"
)

// triggerTTL is how long a trigger_id may be used with views.open/push.
const triggerTTL = 3 * time.Second

// maxViewStack is Slack's limit of stacked modal views.
const maxViewStack = 3

// View is a modal or home tab the bot created with views.open, views.push
// or views.publish (or with a response_action in a view_submission ack).
type View struct {
	ID              string
	Type            string // "modal" or "home"
	UserID          string // the user who sees the view
	CallbackID      string
	PrivateMetadata string
	ExternalID      string
	Hash            string
	RootViewID      string
	PreviousViewID  string
	Raw             json.RawMessage // the view object as Slack returned it
	Closed          bool            // submitted without being kept open, or cleared
}

// View returns the view with the given ID.
func (s *Server) View(viewID string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.st.views[viewID]
	if !ok {
		return View{}, false
	}
	return v.clone(), true
}

// OpenedViews returns every modal view, in the order they were opened or
// pushed (home tabs are not included; see [Server.HomeView]).
func (s *Server) OpenedViews() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []View
	for _, id := range s.st.viewOrder {
		if v := s.st.views[id]; v.Type == "modal" {
			out = append(out, v.clone())
		}
	}
	return out
}

// HomeView returns the home tab the bot published for userID.
func (s *Server) HomeView(userID string) (View, bool) {
	s.mu.Lock()
	id, ok := s.st.homeViews[userID]
	s.mu.Unlock()
	if !ok {
		return View{}, false
	}
	return s.View(id)
}

func (v *View) clone() View {
	c := *v
	c.Raw = slices.Clone(v.Raw)
	return c
}

// checkTriggerLocked validates a trigger_id without consuming it.
func (s *Server) checkTriggerLocked(id string) (*trigger, string) {
	t, ok := s.st.triggers[id]
	switch {
	case !ok || s.nowLocked().Sub(t.issued) > triggerTTL:
		return nil, "expired_trigger_id"
	case t.used:
		return nil, "trigger_exchanged"
	}
	return t, ""
}

// apiViewsOpen serves views.open.
func (s *Server) apiViewsOpen(r *apiRequest) (map[string]any, string) {
	t, e := s.checkTriggerLocked(r.params["trigger_id"])
	if e != "" {
		return nil, e
	}
	id := s.st.nextID("V")
	v, extra, e := s.buildViewLocked(r.raw("view"), "modal", id, t.userID, id, "")
	if e != "" {
		return extra, e
	}
	t.used = true
	s.storeViewLocked(v)
	return map[string]any{"view": v.Raw}, ""
}

// apiViewsPush serves views.push. With a trigger from an interaction inside
// a modal, the new view is stacked on that modal (at most 3 views).
func (s *Server) apiViewsPush(r *apiRequest) (map[string]any, string) {
	t, e := s.checkTriggerLocked(r.params["trigger_id"])
	if e != "" {
		return nil, e
	}
	id := s.st.nextID("V")
	root, prev := id, ""
	if parent, ok := s.st.views[t.viewID]; ok && parent.Type == "modal" && !parent.Closed {
		root, prev = parent.RootViewID, parent.ID
		if s.stackSizeLocked(root) >= maxViewStack {
			return nil, "push_limit_reached"
		}
	}
	v, extra, e := s.buildViewLocked(r.raw("view"), "modal", id, t.userID, root, prev)
	if e != "" {
		return extra, e
	}
	t.used = true
	s.storeViewLocked(v)
	return map[string]any{"view": v.Raw}, ""
}

// apiViewsUpdate serves views.update by view_id or external_id, honouring
// hash (hash_conflict). Closed modals are not_found.
func (s *Server) apiViewsUpdate(r *apiRequest) (map[string]any, string) {
	var old *View
	for _, id := range s.st.viewOrder {
		v := s.st.views[id]
		if (r.params["view_id"] != "" && v.ID == r.params["view_id"]) ||
			(r.params["view_id"] == "" && r.params["external_id"] != "" && v.ExternalID == r.params["external_id"]) {
			old = v
		}
	}
	if old == nil || old.Closed {
		return nil, "not_found"
	}
	if h := r.params["hash"]; h != "" && h != old.Hash {
		return nil, "hash_conflict"
	}
	v, extra, e := s.buildViewLocked(r.raw("view"), old.Type, old.ID, old.UserID, old.RootViewID, old.PreviousViewID)
	if e != "" {
		return extra, e
	}
	*old = *v
	return map[string]any{"view": v.Raw}, ""
}

// apiViewsPublish serves views.publish; each user has one home view whose
// ID stays the same across publishes.
func (s *Server) apiViewsPublish(r *apiRequest) (map[string]any, string) {
	userID := r.params["user_id"]
	if _, ok := s.st.users[userID]; !ok {
		return nil, "user_not_found"
	}
	id, existed := s.st.homeViews[userID]
	if existed {
		if h := r.params["hash"]; h != "" && h != s.st.views[id].Hash {
			return nil, "hash_conflict"
		}
	} else {
		id = s.st.nextID("V")
	}
	v, extra, e := s.buildViewLocked(r.raw("view"), "home", id, userID, id, "")
	if e != "" {
		return extra, e
	}
	s.st.homeViews[userID] = id
	s.storeViewLocked(v)
	return map[string]any{"view": v.Raw}, ""
}

// storeViewLocked adds or replaces v.
func (s *Server) storeViewLocked(v *View) {
	if _, ok := s.st.views[v.ID]; !ok {
		s.st.viewOrder = append(s.st.viewOrder, v.ID)
	}
	s.st.views[v.ID] = v
}

// stackSizeLocked counts the open modals of the stack rooted at root.
func (s *Server) stackSizeLocked(root string) int {
	n := 0
	for _, v := range s.st.views {
		if v.RootViewID == root && v.Type == "modal" && !v.Closed {
			n++
		}
	}
	return n
}
