package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"sync"
	"time"
)

// PersonLock names the lock on one person's passwords: taken around
// reading their passwords and creating or deleting one, so that the limit
// and the name check hold across replicas. entraID is their object id.
func PersonLock(entraID string) string { return "person:" + entraID }

// ApplicationLock names the lock taken while finding or creating one
// person's application, so that two replicas cannot both create one.
func ApplicationLock(entraID string) string { return "application:" + entraID }

// LockPerson takes PersonLock(entraID): see Lock.
func (d *DB) LockPerson(ctx context.Context, entraID string) (unlock func(), err error) {
	return d.Lock(ctx, PersonLock(entraID))
}

// LockApplicationCreation takes ApplicationLock(entraID): see Lock. When
// both are needed, take the person's lock first.
func (d *DB) LockApplicationCreation(ctx context.Context, entraID string) (unlock func(), err error) {
	return d.Lock(ctx, ApplicationLock(entraID))
}

// Lock blocks until the caller holds the lock called name, or ctx ends,
// and returns the function that releases it. At most one caller holds a
// given name at a time: among the goroutines of this process on either
// backend, and among every process sharing the database on PostgreSQL.
// Locks are not reentrant: taking a name one already holds waits forever
// (or until ctx ends). unlock must be called once; later calls do nothing.
//
// It returns ctx's error when ctx ends first, and a wrapped database
// error when PostgreSQL cannot be reached; the lock is not held then.
//
// On PostgreSQL the lock is a session advisory lock (pg_advisory_lock on
// a 64-bit hash of the schema and name) held by a connection set aside for it until
// unlock. When the holder dies its connection closes and PostgreSQL
// releases the lock at once; when its host vanishes, once TCP keepalives
// give up (about a minute with Open's defaults). The holder is not told if
// its session is lost mid-section (a server restart): the compare-and-set
// claims (ClaimRevocation, ClaimResume, AcquireLease) still guard the
// decisions that must happen once. A server-side idle_session_timeout
// shorter than a critical section would end the session, and the lock,
// early; do not set one for apppass's role.
//
// On SQLite the lock holds among the users of this DB only: SQLite is
// for one process (SPEC §12).
func (d *DB) Lock(ctx context.Context, name string) (unlock func(), err error) {
	// Waiters of this process queue here first, so that each name costs at
	// most one PostgreSQL session however many goroutines want it.
	unlockLocal, err := d.locks.lock(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if !d.db.postgres {
		return onlyOnce(unlockLocal), nil
	}
	unlockShared, err := d.db.advisoryLock(ctx, name)
	if err != nil {
		unlockLocal()
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	return onlyOnce(func() {
		unlockShared()
		unlockLocal()
	}), nil
}

func onlyOnce(f func()) func() {
	var once sync.Once
	return func() { once.Do(f) }
}

// advisoryLock takes PostgreSQL's session advisory lock for name on a
// connection of its own, and returns what releases it and gives the
// connection back. Whenever the outcome on the server is unsure (an error,
// a cancelled wait that may have been granted meanwhile, a failed unlock),
// the connection is closed instead, which releases whatever it held.
func (c *sqlConn) advisoryLock(ctx context.Context, name string) (unlock func(), err error) {
	key := lockKey(c.schema + ":" + name)
	conn, err := c.locks.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		discard(conn)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return func() {
		// The caller's context may be over by now; the unlock must still
		// be sent.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		var released bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1)`, key).Scan(&released); err != nil || !released {
			discard(conn)
			return
		}
		conn.Close()
	}, nil
}

// discard closes conn's session rather than returning it to the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}

// lockKey maps a lock name to PostgreSQL's 64-bit advisory lock key. Two
// names that collide only share a lock: slower, never unsafe.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("apppass:" + name))
	return int64(h.Sum64())
}

// localLocks is a mutex per name, within this process, that a context
// can abandon.
type localLocks struct {
	mu sync.Mutex
	m  map[string]*localLock
}

type localLock struct {
	held chan struct{} // holds a token while locked
	refs int           // holders and waiters; the entry goes at 0
}

func (l *localLocks) lock(ctx context.Context, name string) (unlock func(), err error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*localLock{}
	}
	e := l.m[name]
	if e == nil {
		e = &localLock{held: make(chan struct{}, 1)}
		l.m[name] = e
	}
	e.refs++
	l.mu.Unlock()
	select {
	case e.held <- struct{}{}:
		return func() {
			<-e.held
			l.drop(name, e)
		}, nil
	case <-ctx.Done():
		l.drop(name, e)
		return nil, ctx.Err()
	}
}

func (l *localLocks) drop(name string, e *localLock) {
	l.mu.Lock()
	if e.refs--; e.refs == 0 {
		delete(l.m, name)
	}
	l.mu.Unlock()
}
