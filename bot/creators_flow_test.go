package bot_test

import (
	"strings"
	"testing"
)

const creatorsGroup = "22222222-0000-0000-0000-0000000000cc"

// With APPPASS_CREATORS_GROUP set, only its members may create; others
// may still list and delete theirs and are told whom to ask, in the
// reply, in help and on Home. Membership is read fresh each time.
func TestOnlyCreatorsGroupMembersMayCreate(t *testing.T) {
	h := newHarness(t)
	h.Env["APPPASS_CREATORS_GROUP"] = creatorsGroup
	h.Entra.AddGroupMember(creatorsGroup, entraID(alice))
	h.start()

	if h.SecretIn(h.Ask(alice, "create Phone")) == "" {
		t.Fatal("a member of the creators group could not create")
	}
	got := h.Ask(bob, "create Phone")
	if h.SecretIn(got) != "" || !strings.Contains(got, "ask the helpdesk") {
		t.Errorf("bob, outside the group, was answered: %s", got)
	}
	if n := h.CountOf(bob); n != 0 {
		t.Errorf("bob holds %d passwords", n)
	}
	if got := h.Ask(bob, "list"); !strings.Contains(got, "0 of 40") {
		t.Errorf("bob's list: %s", got)
	}
	if got := h.Ask(bob, "help"); !strings.Contains(got, "limited to a group you are not in") {
		t.Errorf("bob's help does not say he may not create: %s", got)
	}
	if got := h.Ask(alice, "help"); strings.Contains(got, "limited to a group") {
		t.Errorf("alice's help says she may not create: %s", got)
	}
	_, home := h.OpenHome(bob)
	if text := messageText(home); !strings.Contains(text, "limited to a group you are not in") {
		t.Errorf("bob's Home does not say he may not create:\n%s", text)
	}
	if vals := buttons(home)["home_create"]; len(vals) != 0 {
		t.Errorf("bob's Home offers the Create button")
	}

	// Checked fresh: out of the group, alice can no longer create, and
	// can still delete the one she has.
	h.Entra.RemoveGroupMember(creatorsGroup, entraID(alice))
	if got := h.Ask(alice, "create Laptop"); h.SecretIn(got) != "" || !strings.Contains(got, "ask the helpdesk") {
		t.Errorf("alice, removed from the group, was answered: %s", got)
	}
	if n := h.CountOf(alice); n != 1 {
		t.Errorf("alice holds %d passwords, want 1", n)
	}
}
