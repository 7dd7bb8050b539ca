package fakeentra

import (
	"bufio"
	"strconv"
	"time"
	"unicode/utf8"
)

// objWriter streams one JSON object field by field. encoding/json cannot
// project an entity onto an arbitrary $select without building a map per
// object, so entity payloads are written by hand; the escaping matches
// encoding/json's (verified by the tests).
type objWriter struct {
	b *bufio.Writer
	n int
}

// beginObj writes '{' and returns a writer for the object's fields.
func beginObj(b *bufio.Writer) objWriter {
	b.WriteByte('{')
	return objWriter{b: b}
}

// key writes a separator if needed and the quoted name followed by ':'.
func (o *objWriter) key(k string) {
	if o.n > 0 {
		o.b.WriteByte(',')
	}
	o.n++
	writeString(o.b, k)
	o.b.WriteByte(':')
}

// str writes a string field.
func (o *objWriter) str(k, v string) {
	o.key(k)
	writeString(o.b, v)
}

// strOrNull writes a string field, or null when v is empty.
func (o *objWriter) strOrNull(k, v string) {
	if v == "" {
		o.null(k)
		return
	}
	o.str(k, v)
}

// null writes a null field.
func (o *objWriter) null(k string) {
	o.key(k)
	o.b.WriteString("null")
}

// boolean writes a boolean field.
func (o *objWriter) boolean(k string, v bool) {
	o.key(k)
	o.b.WriteString(strconv.FormatBool(v))
}

// time writes an RFC 3339 UTC timestamp, or null for the zero time.
func (o *objWriter) time(k string, t time.Time) {
	if t.IsZero() {
		o.null(k)
		return
	}
	o.key(k)
	buf := o.b.AvailableBuffer() // appending here avoids an allocation
	buf = append(buf, '"')
	buf = t.UTC().AppendFormat(buf, time.RFC3339Nano)
	buf = append(buf, '"')
	o.b.Write(buf)
}

// strs writes an array of strings (never null).
func (o *objWriter) strs(k string, vs []string) {
	o.key(k)
	o.b.WriteByte('[')
	for i, v := range vs {
		if i > 0 {
			o.b.WriteByte(',')
		}
		writeString(o.b, v)
	}
	o.b.WriteByte(']')
}

// end writes '}'.
func (o *objWriter) end() { o.b.WriteByte('}') }

const hexDigits = "0123456789abcdef"

// writeString writes s as a JSON string, escaping like encoding/json:
// quotes, backslashes, control characters, <, >, &, U+2028, U+2029, and
// invalid UTF-8 as U+FFFD.
func writeString(b *bufio.Writer, s string) {
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			case '\b':
				b.WriteString(`\b`)
			case '\f':
				b.WriteString(`\f`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(s[start:i])
			b.WriteString(`\ufffd`)
		case r == '\u2028' || r == '\u2029':
			b.WriteString(s[start:i])
			b.WriteString(`\u202`)
			b.WriteByte(hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}
