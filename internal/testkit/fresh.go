package testkit

import (
	"context"

	"github.com/apppass/apppass/domain"
)

// FreshUser returns the employee with Entra id id; a KindNotFound error
// when there is none. The in-memory Entra has no cache, so every answer is
// fresh, as handlers.Directory asks.
func (e *Entra) FreshUser(_ context.Context, id string) (domain.User, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, u := range e.users {
		if u.ID == id {
			return u, nil
		}
	}
	return domain.User{}, domain.Errorf(domain.KindNotFound, "no user %s", id)
}
