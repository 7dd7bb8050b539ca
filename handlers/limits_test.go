package handlers_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/apppass/apppass/domain"
	"github.com/apppass/apppass/handlers"
)

func TestLimitRules(t *testing.T) {
	l := handlers.Limits{MaxPerUser: 40, WarnAt: 35}
	tests := []struct {
		held       int
		near, full bool
	}{
		{0, false, false}, {34, false, false}, {35, true, false}, {39, true, false}, {40, true, true}, {41, true, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.held), func(t *testing.T) {
			if got := l.Near(tt.held); got != tt.near {
				t.Errorf("Near(%d) = %v, want %v", tt.held, got, tt.near)
			}
			if got := l.Full(tt.held); got != tt.full {
				t.Errorf("Full(%d) = %v, want %v", tt.held, got, tt.full)
			}
		})
	}
}

func TestCreateKeepsTheLimitAndNames(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		held    int
		create  string
		want    domain.Kind // KindInternal: created
		wantLen int         // passwords held afterwards
	}{
		{"none held", 0, "Phone", domain.KindInternal, 1},
		{"one below the limit", 39, "Phone", domain.KindInternal, 40},
		{"at the limit", 40, "Phone", domain.KindLimit, 40},
		{"name in use, other case", 1, "DEVICE 0", domain.KindConflict, 1},
		{"bad name", 0, "a\nb", domain.KindInvalid, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			for i := range tt.held {
				w.create(t, alice, fmt.Sprintf("device %d", i))
			}
			iss, _, err := w.h.Passwords.Create(ctx, alice.actor, tt.create)
			if tt.want == domain.KindInternal {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				iss.Delivered(ctx)
			} else if got := domain.KindOf(err); got != tt.want {
				t.Fatalf("err = %v (kind %v), want kind %v", err, got, tt.want)
			}
			if n, err := w.h.Passwords.Count(ctx, alice.actor); err != nil || n != tt.wantLen {
				t.Errorf("Count = %d, %v; want %d", n, err, tt.wantLen)
			}
		})
	}
}
