package domain

import (
	"errors"
	"fmt"
)

// Kind classifies an Error so the Slack adapter can choose a reply and
// decide whether to log it.
type Kind int

// The error kinds. Internal and Upstream are the only kinds that are logged
// as failures; the others are the person's input or permissions.
const (
	KindInternal Kind = iota
	KindInvalid
	KindNotFound
	KindForbidden
	KindConflict
	KindLimit
	KindUpstream
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindNotFound:
		return "not_found"
	case KindForbidden:
		return "forbidden"
	case KindConflict:
		return "conflict"
	case KindLimit:
		return "limit"
	case KindUpstream:
		return "upstream"
	default:
		return "internal"
	}
}

// Error is apppass's error vocabulary: a kind, a message that is safe to
// show the person who acted, and the cause, which is for logs only.
type Error struct {
	Kind    Kind
	Message string // shown to the person; never contains a secret
	Ref     string // correlation id the helpdesk can search the logs for
	Err     error  // the cause; logged, never shown
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Kind.String() + ": " + e.Message
	}
	return e.Kind.String() + ": " + e.Message + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind whose message is formatted
// from format and args; the message is what the person will read.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error of the given kind with a person-safe message and
// cause err.
func Wrap(kind Kind, err error, message string) *Error {
	return &Error{Kind: kind, Message: message, Err: err}
}

// KindOf returns the kind of the first *Error in err's chain, or
// KindInternal when there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// MessageOf returns the person-safe message of the first *Error in err's
// chain, or a generic apology when err carries none.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "Something went wrong on our side. Please try again in a minute."
}

// RefOf returns the correlation id of the first *Error in err's chain that
// has one.
func RefOf(err error) string {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return ""
		}
		if e.Ref != "" {
			return e.Ref
		}
		err = e.Err
	}
	return ""
}
