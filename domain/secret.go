package domain

import (
	"fmt"
	"log/slog"
)

const redacted = "[REDACTED]"

// Secret is a new app password's value. Every way of printing, formatting,
// logging or marshalling it yields "[REDACTED]"; the value is read only
// through Reveal, in the one place that builds the ephemeral message.
type Secret struct {
	value string
}

// NewSecret wraps v.
func NewSecret(v string) Secret { return Secret{value: v} }

// Reveal returns the raw value. Call it only to put the value in front of
// the person who created it.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

func (s Secret) String() string               { return redacted }
func (s Secret) GoString() string             { return redacted }
func (s Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Format makes every verb, %x and %q included, print the redaction.
func (s Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(redacted)) }
