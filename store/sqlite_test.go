package store_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/store"
)

// The database and the files SQLite keeps beside it are the owner's only,
// whatever the umask (SPEC §11), and an existing file others could read
// is narrowed.
func TestSQLiteFilesAreOwnerOnly(t *testing.T) {
	old := syscall.Umask(0) // the most permissive: nothing taken away
	t.Cleanup(func() { syscall.Umask(old) })
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		existing bool
	}{
		{"new file", false},
		{"existing world-readable file", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "apppass.db")
			if tc.existing {
				if err := os.WriteFile(path, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			db, err := store.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			// A write makes SQLite create the -wal and -shm files.
			if err := db.SaveUser(ctx, "U1", domain.User{ID: "e1"}); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				st, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := st.Mode().Perm(), fs.FileMode(0o600); got != want {
					t.Errorf("%s: mode %v, want %v", filepath.Base(p), got, want)
				}
			}
		})
	}
}
