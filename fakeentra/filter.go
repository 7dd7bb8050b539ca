package fakeentra

import (
	"fmt"
	"strings"
)

// The $filter subset the fake understands, joined by "and":
//
//	prop eq 'literal'                 (also eq true / eq false)
//	coll/any(t:t eq 'literal')        (any lambda variable name)
//	startswith(prop,'literal')
//
// String comparisons are case-insensitive, as for directory objects on Graph.

// clause kinds.
const (
	clauseEq = iota
	clauseAny
	clauseStartsWith
)

// clause is one parsed $filter condition.
type clause struct {
	kind int
	prop string // canonical property name
	val  string
}

// filterTarget is an entity that filter clauses can be evaluated on.
type filterTarget interface {
	str(prop string) string
	coll(prop string) []string
}

// matches reports whether t satisfies c.
func (c clause) matches(t filterTarget) bool {
	switch c.kind {
	case clauseAny:
		for _, v := range t.coll(c.prop) {
			if strings.EqualFold(v, c.val) {
				return true
			}
		}
		return false
	case clauseStartsWith:
		v := t.str(c.prop)
		return len(v) >= len(c.val) && strings.EqualFold(v[:len(c.val)], c.val)
	}
	return strings.EqualFold(t.str(c.prop), c.val)
}

// matchAll reports whether t satisfies every clause.
func matchAll(cs []clause, t filterTarget) bool {
	for _, c := range cs {
		if !c.matches(t) {
			return false
		}
	}
	return true
}

// filterParser is a tiny recursive-descent parser over the $filter text.
type filterParser struct {
	s   string
	pos int
	t   *entityType
}

// parseFilter parses expr against entity type t.
func parseFilter(expr string, t *entityType) ([]clause, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, nil
	}
	p := &filterParser{s: expr, t: t}
	var out []clause
	for {
		c, err := p.clause()
		if err != nil {
			return nil, fmt.Errorf("Invalid filter clause: %v (in %q)", err, expr)
		}
		out = append(out, c)
		if p.skip(); p.pos == len(p.s) {
			return out, nil
		}
		if w := p.ident(); !eq(w, "and") {
			return nil, fmt.Errorf("Invalid filter clause: fakeentra supports only 'and' between conditions, got %q (in %q)", w, expr)
		}
	}
}

// clause parses one condition.
func (p *filterParser) clause() (clause, error) {
	name := p.ident()
	if name == "" {
		return clause{}, p.errorf("expected a property name")
	}
	if eq(name, "startswith") && p.peek('(') {
		p.expect('(')
		prop, err := p.prop(false)
		if err != nil {
			return clause{}, err
		}
		if err := p.expect(','); err != nil {
			return clause{}, err
		}
		v, err := p.literal()
		if err == nil {
			err = p.expect(')')
		}
		return clause{kind: clauseStartsWith, prop: prop, val: v}, err
	}
	p.pos -= len(name)
	if p.peekAfterIdent('/') {
		prop, err := p.prop(true)
		if err != nil {
			return clause{}, err
		}
		p.expect('/')
		if w := p.ident(); !eq(w, "any") {
			return clause{}, p.errorf("fakeentra supports only the any() lambda operator, got %q", w)
		}
		if err := p.expect('('); err != nil {
			return clause{}, err
		}
		v1 := p.ident()
		if err := p.expect(':'); err != nil {
			return clause{}, err
		}
		if v2 := p.ident(); v1 == "" || v2 != v1 {
			return clause{}, p.errorf("lambda must compare its own variable, as in any(t:t eq 'x')")
		}
		if w := p.ident(); !eq(w, "eq") {
			return clause{}, p.errorf("fakeentra supports only eq inside any(), got %q", w)
		}
		v, err := p.literal()
		if err == nil {
			err = p.expect(')')
		}
		return clause{kind: clauseAny, prop: prop, val: v}, err
	}
	prop, err := p.prop(false)
	if err != nil {
		return clause{}, err
	}
	if w := p.ident(); !eq(w, "eq") {
		return clause{}, p.errorf("fakeentra supports only the eq operator, got %q", w)
	}
	v, err := p.literal()
	return clause{kind: clauseEq, prop: prop, val: v}, err
}

// prop parses a property name of the entity type.
func (p *filterParser) prop(coll bool) (string, error) {
	name := p.ident()
	i, ok := p.t.index(name)
	if !ok {
		return "", p.errorf("could not find a property named '%s' on type '%s'", name, p.t.name)
	}
	if isColl := p.t.colls&(1<<i) != 0; isColl != coll {
		return "", p.errorf("property '%s' cannot be used that way in a filter", name)
	}
	return p.t.props[i], nil
}

// literal parses a quoted string (a doubled quote stands for one) or a bare token such
// as true, false or a GUID.
func (p *filterParser) literal() (string, error) {
	p.skip()
	if p.pos < len(p.s) && p.s[p.pos] == '\'' {
		var sb strings.Builder
		for i := p.pos + 1; i < len(p.s); i++ {
			if p.s[i] != '\'' {
				sb.WriteByte(p.s[i])
				continue
			}
			if i+1 < len(p.s) && p.s[i+1] == '\'' {
				sb.WriteByte('\'')
				i++
				continue
			}
			p.pos = i + 1
			return sb.String(), nil
		}
		return "", p.errorf("unterminated string literal")
	}
	if w := p.ident(); w != "" {
		return w, nil
	}
	return "", p.errorf("expected a literal")
}

// ident reads an identifier-like token (letters, digits, '_', '-', '.', '@').
func (p *filterParser) ident() string {
	p.skip()
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '@' {
			p.pos++
			continue
		}
		break
	}
	return p.s[start:p.pos]
}

// skip skips whitespace.
func (p *filterParser) skip() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

// peek reports whether the next non-space byte is c.
func (p *filterParser) peek(c byte) bool {
	p.skip()
	return p.pos < len(p.s) && p.s[p.pos] == c
}

// peekAfterIdent reports whether c follows the next identifier.
func (p *filterParser) peekAfterIdent(c byte) bool {
	save := p.pos
	p.ident()
	ok := p.pos < len(p.s) && p.s[p.pos] == c
	p.pos = save
	return ok
}

// expect consumes c or fails.
func (p *filterParser) expect(c byte) error {
	if !p.peek(c) {
		return p.errorf("expected '%c'", c)
	}
	p.pos++
	return nil
}

func (p *filterParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at offset %d: "+format, append([]any{p.pos}, args...)...)
}
