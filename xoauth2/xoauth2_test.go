package xoauth2_test

import (
	"errors"
	"testing"

	"github.com/apppass/apppass/xoauth2"
)

func TestRoundTrip(t *testing.T) {
	c := xoauth2.NewClient("alice@contoso.test", "eyJ0.eyJ1.sig")
	mech, ir, err := c.Start()
	if err != nil || mech != "XOAUTH2" {
		t.Fatalf("Start = %q, %v", mech, err)
	}
	if got, want := string(ir), "user=alice@contoso.test\x01auth=Bearer eyJ0.eyJ1.sig\x01\x01"; got != want {
		t.Fatalf("initial response %q, want %q", got, want)
	}
	var gotUser, gotToken string
	s := xoauth2.NewServer(func(u, tok string) error { gotUser, gotToken = u, tok; return nil })
	if _, done, err := s.Next(ir); !done || err != nil {
		t.Fatalf("server Next = %v, %v", done, err)
	}
	if gotUser != "alice@contoso.test" || gotToken != "eyJ0.eyJ1.sig" {
		t.Errorf("server saw %q, %q", gotUser, gotToken)
	}
}

func TestServerRefuses(t *testing.T) {
	refused := errors.New("no")
	for name, resp := range map[string]string{
		"no trailer":   "user=a@b\x01auth=Bearer t",
		"no user":      "auth=Bearer t\x01\x01",
		"basic scheme": "user=a@b\x01auth=Basic dTpw\x01\x01",
		"empty token":  "user=a@b\x01auth=Bearer \x01\x01",
	} {
		t.Run(name, func(t *testing.T) {
			s := xoauth2.NewServer(func(string, string) error { return refused })
			if _, _, err := s.Next([]byte(resp)); !errors.Is(err, xoauth2.ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
		})
	}
	s := xoauth2.NewServer(func(string, string) error { return refused })
	if _, _, err := s.Next(xoauth2.Encode("a@b", "t")); !errors.Is(err, refused) {
		t.Errorf("checker's refusal lost: %v", err)
	}
}

func TestServerAsksForInitialResponse(t *testing.T) {
	s := xoauth2.NewServer(func(string, string) error { return nil })
	ch, done, err := s.Next(nil)
	if done || err != nil || len(ch) != 0 {
		t.Fatalf("Next(nil) = %q, %v, %v; want an empty challenge", ch, done, err)
	}
	if _, done, err := s.Next(xoauth2.Encode("a@b", "t")); !done || err != nil {
		t.Fatalf("second Next = %v, %v", done, err)
	}
}
