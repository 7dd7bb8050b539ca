package handlers

import "sync"

// ownerLocks serialize work per employee (by Entra id), so two fast clicks
// cannot both pass the limit or name check, and the reconciler does not
// race a request for the same person.
type ownerLocks struct {
	mu    sync.Mutex
	locks map[string]*ownerLock
}

type ownerLock struct {
	mu   sync.Mutex
	refs int
}

// Lock locks key and returns its unlock function.
func (k *ownerLocks) Lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*ownerLock{}
	}
	e := k.locks[key]
	if e == nil {
		e = &ownerLock{}
		k.locks[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
