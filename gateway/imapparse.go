package gateway

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// maxIMAPCommand bounds a command before login, literals included: user
// names are at most 320 bytes and app passwords about 40.
const maxIMAPCommand = 8 << 10

// errIMAPSyntax is a command apppass cannot read; the session answers BAD.
var errIMAPSyntax = errors.New("syntax error")

// errIMAPTooLong is a command past maxIMAPCommand; the session ends.
var errIMAPTooLong = errors.New("command too long")

// imapCommand is one command read before login: its tag, its name in
// upper case, and its arguments (atoms, quoted strings and literals as
// their values; parentheses as "(" and ")").
type imapCommand struct {
	tag, name string
	args      []imapArg
}

// imapArg is one argument; quoted tells a string from an atom, so that
// NIL and "NIL" differ.
type imapArg struct {
	val    string
	quoted bool
}

// readIMAPCommand reads one command line, with its literals (RFC 9051
// §4.3: {n} is answered with a continuation request on w, {n+} is not).
// It returns errIMAPSyntax with the tag when the line cannot be read, and
// errIMAPTooLong or an I/O error when the session must end.
func readIMAPCommand(r *bufio.Reader, w io.Writer) (imapCommand, error) {
	var toks []imapArg
	total := 0
	for {
		line, err := readIMAPLine(r, maxIMAPCommand-total)
		if err != nil {
			return imapCommand{}, err
		}
		total += len(line) + 2
		more, n, plus, err := tokenize(line, &toks)
		if err != nil {
			return syntaxCommand(toks), err
		}
		if !more {
			break
		}
		if n > maxIMAPCommand-total {
			return imapCommand{}, errIMAPTooLong
		}
		if !plus {
			if _, err := io.WriteString(w, "+ Ready for literal data\r\n"); err != nil {
				return imapCommand{}, err
			}
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return imapCommand{}, err
		}
		total += n
		toks = append(toks, imapArg{val: string(b), quoted: true})
	}
	if len(toks) < 2 || toks[0].quoted || toks[1].quoted || !validTag(toks[0].val) {
		return syntaxCommand(toks), errIMAPSyntax
	}
	return imapCommand{tag: toks[0].val, name: upperASCII(toks[1].val), args: toks[2:]}, nil
}

// syntaxCommand keeps the tag of a line that could not be read, for the
// BAD answer ("*" when there is none).
func syntaxCommand(toks []imapArg) imapCommand {
	if len(toks) > 0 && !toks[0].quoted && validTag(toks[0].val) {
		return imapCommand{tag: toks[0].val}
	}
	return imapCommand{tag: "*"}
}

// readIMAPLine reads up to CRLF (or LF), at most limit bytes.
func readIMAPLine(r *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		if err != nil {
			return nil, err
		}
		line = append(line, chunk...)
		if len(line) > limit {
			return nil, errIMAPTooLong
		}
		if !isPrefix {
			return line, nil
		}
	}
}

// tokenize appends line's tokens to toks. When the line ends with a
// literal's announcement it returns more with its size and whether it is
// non-synchronising ({n+}).
func tokenize(line []byte, toks *[]imapArg) (more bool, n int, plus bool, err error) {
	i := 0
	for i < len(line) {
		switch c := line[i]; {
		case c == ' ':
			i++
		case c == '(' || c == ')':
			*toks = append(*toks, imapArg{val: string(c)})
			i++
		case c == '"':
			var s []byte
			i++
			for {
				if i >= len(line) {
					return false, 0, false, errIMAPSyntax
				}
				c := line[i]
				if c == '"' {
					i++
					break
				}
				if c == '\\' {
					i++
					if i >= len(line) || (line[i] != '"' && line[i] != '\\') {
						return false, 0, false, errIMAPSyntax
					}
					c = line[i]
				}
				s = append(s, c)
				i++
			}
			*toks = append(*toks, imapArg{val: string(s), quoted: true})
		case c == '{':
			end := i + 1
			for end < len(line) && line[end] != '}' {
				end++
			}
			if end != len(line)-1 {
				return false, 0, false, errIMAPSyntax // a literal's announcement ends the line
			}
			num := string(line[i+1 : end])
			plus = len(num) > 0 && num[len(num)-1] == '+'
			if plus {
				num = num[:len(num)-1]
			}
			n, err := strconv.Atoi(num)
			if err != nil || n < 0 || len(num) > 10 {
				return false, 0, false, errIMAPSyntax
			}
			return true, n, plus, nil
		case c < 0x21 || c == 0x7f:
			return false, 0, false, errIMAPSyntax
		default:
			start := i
			for i < len(line) && line[i] > 0x20 && line[i] != 0x7f && line[i] != '(' && line[i] != ')' && line[i] != '"' && line[i] != '{' {
				i++
			}
			*toks = append(*toks, imapArg{val: string(line[start:i])})
		}
	}
	return false, 0, false, nil
}

// validTag reports whether t is a tag: atom characters but "+", at most
// 64 of them (bounded, as it is echoed).
func validTag(t string) bool {
	if t == "" || len(t) > 64 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c <= 0x20 || c >= 0x7f || c == '+' || c == '%' || c == '*' || c == ']' || c == '\\' {
			return false
		}
	}
	return true
}

// upperASCII upper-cases a command name.
func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

// astring returns argument i as an IMAP astring (atom, quoted string or
// literal), or an error.
func (c imapCommand) astring(i int) (string, error) {
	if i >= len(c.args) || (!c.args[i].quoted && (c.args[i].val == "(" || c.args[i].val == ")")) {
		return "", fmt.Errorf("%w: argument %d missing", errIMAPSyntax, i+1)
	}
	return c.args[i].val, nil
}
