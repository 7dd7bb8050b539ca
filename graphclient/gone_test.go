package graphclient_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/fakeentra"
)

// "Already gone" is what Entra lists, not what its refusal says: a key
// the application no longer holds is not found whatever the wording of
// Graph's 400, and a key still listed is a failure even when the refusal
// reads like "not found".
func TestRemovePasswordDecidesGoneByListing(t *testing.T) {
	s := fakeentra.New(t)
	const owner = "11111111-0000-0000-0000-00000000000a"
	s.AddUser(fakeentra.User{ID: owner, UserPrincipalName: "a@x.test", AccountEnabled: true})
	fa := s.AddEmployeeApp(owner, true)
	kept := s.AddSecret(fa.ID, "Phone", time.Time{})
	app := domain.Application{ObjectID: fa.ID, AppID: fa.AppID, OwnerID: owner}
	c := MustClient(t, s)

	s.ResetCalls()
	err := c.RemovePassword(ctx(t), app, uuid.NewString())
	if domain.KindOf(err) != domain.KindNotFound {
		t.Errorf("removing a key Entra does not list: err = %v, want not found", err)
	}
	if ops := slices.DeleteFunc(graphOps(s), func(op string) bool { return op == fakeentra.OpDiscovery }); len(ops) != 2 || ops[0] != fakeentra.OpRemovePassword || ops[1] != fakeentra.OpListApplications {
		t.Errorf("calls = %v; want removePassword, then the listing that decides", ops)
	}

	s.Inject(fakeentra.OpRemovePassword, fakeentra.Fault{Status: http.StatusBadRequest, Code: "Request_BadRequest",
		Message: "No password credential found with keyId " + kept.KeyID + "."})
	err = c.RemovePassword(ctx(t), app, kept.KeyID)
	if err == nil || domain.KindOf(err) == domain.KindNotFound {
		t.Errorf("a refused removal of a key Entra still lists: err = %v, want a failure", err)
	}
	if n := len(s.CredentialsOf(owner)); n != 1 {
		t.Fatalf("Entra holds %d credentials, want the one still there", n)
	}
	if err := c.RemovePassword(ctx(t), app, kept.KeyID); err != nil {
		t.Errorf("retry: %v", err)
	}
}
