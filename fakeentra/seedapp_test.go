package fakeentra_test

import (
	"testing"
	"time"

	"github.com/apppass/apppass/fakeentra"
)

func TestSeedApplication(t *testing.T) {
	s := fakeentra.New(t)
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	s.SetNow(func() time.Time { return now })
	s.AddUser(fakeentra.User{ID: "owner-1", DisplayName: "Owner", UserPrincipalName: "owner@example.test", AccountEnabled: true})
	used := now.Add(-48 * time.Hour)
	a := s.SeedApplication("owner-1", "App passwords – owner@example.test", []fakeentra.SeedPassword{
		{Name: "Scanner", Start: now.AddDate(0, -8, 0)},
		{Name: "Phone", End: now.AddDate(0, 0, 10), LastSignIn: used},
	})
	if !a.HasServicePrincipal || len(a.Tags) != 2 || a.Tags[1] != "apppass:owner:owner-1" {
		t.Errorf("application: %+v", a)
	}
	if got, want := a.Created, now.AddDate(0, -8, 0); !got.Equal(want) {
		t.Errorf("created %v, want %v (the oldest credential)", got, want)
	}
	creds := s.CredentialsOf("owner-1")
	if len(creds) != 2 {
		t.Fatalf("got %d credentials, want 2", len(creds))
	}
	if got, want := creds[0].End, now.AddDate(0, -8, 0).AddDate(2, 0, 0); !got.Equal(want) {
		t.Errorf("default end %v, want %v", got, want)
	}
	if creds[1].DisplayName != "Phone" || !creds[1].End.Equal(now.AddDate(0, 0, 10)) || creds[1].SecretText != "" {
		t.Errorf("second credential: %+v", creds[1])
	}
	if creds[1].LastSignIn == nil || !creds[1].LastSignIn.Equal(used) || creds[0].LastSignIn != nil {
		t.Errorf("last sign-ins: %v, %v", creds[0].LastSignIn, creds[1].LastSignIn)
	}
	if got, want := s.ObjectCount(), 2; got != want {
		t.Errorf("object count %d, want %d", got, want)
	}
}

func TestStartWithoutTest(t *testing.T) {
	s, err := fakeentra.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	resp, err := s.Client().Get(s.URL() + "/" + fakeentra.TenantID + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("discovery answered %d", resp.StatusCode)
	}
	s.SetLastSignIn("no-such-key", time.Now()) // must not panic without a testing.TB
}
