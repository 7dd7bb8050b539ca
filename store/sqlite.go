package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// openSQLite opens (creating if needed) the SQLite database at path, turns
// on WAL and foreign keys, and applies pending migrations.
//
// The file is created 0600 before SQLite sees it, and an existing file
// readable by others is narrowed to 0600, whatever the umask: SQLite
// creates the -wal and -shm files with its database file's permissions,
// so they follow.
func openSQLite(ctx context.Context, path string) (*sqlConn, error) {
	if err := restrictFile(path); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	sqlDB, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	sqlDB.SetMaxOpenConns(4)
	c := &sqlConn{db: sqlDB}
	if err := migrateSQLite(ctx, c); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("migrate database %s: %w", path, err)
	}
	return c, nil
}

// restrictFile creates path with mode 0600 if it does not exist, and
// narrows it and its -wal, -shm and -journal companions to 0600 if they
// exist with more.
func restrictFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return err
		}
	case !errors.Is(err, fs.ErrExist):
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		// A umask can only take bits away from 0600, and a umask that
		// took the owner's write would leave SQLite a read-only file.
		if st.Mode().Perm() != 0o600 {
			if err := os.Chmod(p, 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}
