package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/store"
)

func TestPasswordLastUsed(t *testing.T) { forEachDB(t, testPasswordLastUsed) }

func testPasswordLastUsed(t *testing.T, db *store.DB) {
	ctx := context.Background()
	t1 := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{t1, t1.Add(-time.Hour), t1.Add(time.Minute)} {
		if err := db.PasswordUsed(ctx, "o1", "k1", at); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.PasswordUsed(ctx, "o2", "k9", t1); err != nil {
		t.Fatal(err)
	}
	got, err := db.PasswordsLastUsed(ctx, "o1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got["k1"].Equal(t1.Add(time.Minute)) {
		t.Errorf("PasswordsLastUsed = %v, want k1 at %v (the latest)", got, t1.Add(time.Minute))
	}
}

func TestRemovalsSince(t *testing.T) { forEachDB(t, testRemovalsSince) }

func testRemovalsSince(t *testing.T, db *store.DB) {
	ctx := context.Background()
	now := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	if err := db.RecordRemoval(ctx, domain.Removal{OwnerID: "o1", Reason: "disabled", At: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordRemoval(ctx, domain.Removal{OwnerID: "o2", Reason: "disabled"}); err != nil {
		t.Fatal(err)
	}
	if err := db.CredentialRemoved(ctx, "o3", "app3", domain.Password{KeyID: "k3", Name: "printer"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		since time.Time
		want  []string
	}{
		{"all", now.Add(-2 * time.Hour), []string{"o1//disabled", "o2//disabled", "o3/k3/removed"}},
		{"recent", now.Add(-time.Minute), []string{"o2//disabled", "o3/k3/removed"}},
		{"none yet", now.Add(time.Second), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := db.RemovalsSince(ctx, tt.since)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rs {
				got = append(got, r.OwnerID+"/"+r.KeyID+"/"+r.Reason)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}
