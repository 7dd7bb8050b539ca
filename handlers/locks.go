package handlers

import "context"

// Locker serialises work per person across every apppass process sharing
// the database: *store.DB satisfies it (PostgreSQL advisory locks; within
// the process on SQLite). Locks wait until held or ctx ends; unlock must
// be called once.
type Locker interface {
	// LockPerson is taken around reading a person's passwords and creating
	// or deleting one, so that two fast clicks, or two replicas, cannot
	// both pass the limit or the name check; the reconciler and the
	// revocations take it too.
	LockPerson(ctx context.Context, entraID string) (unlock func(), err error)
	// LockApplicationCreation is taken, inside LockPerson, while finding
	// or creating a person's application, so that two replicas cannot both
	// create one.
	LockApplicationCreation(ctx context.Context, entraID string) (unlock func(), err error)
}
