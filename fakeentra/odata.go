package fakeentra

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Page sizes of collection GETs, as on Graph.
const (
	defaultPageSize = 100
	maxPageSize     = 999
	// maxExpandPageSize is the largest page Graph serves when a
	// relationship is expanded (owners of applications).
	maxExpandPageSize = 100
)

// odataQuery is the parsed OData system query of a request.
type odataQuery struct {
	sel       []string // $select names as sent; nil when absent
	filter    string   // $filter, "" when absent
	top       int      // page size
	after     int      // skiptoken cursor: items with seq > after; -1 from the start
	expand    string   // $expand as sent, "" when absent
	topSet    bool     // $top was sent
	rawParams []string // the raw "k=v" pieces, for nextLink
}

// supportedOptions are the system query options the fake understands; other
// OData options answer 400 rather than being silently ignored.
var supportedOptions = map[string]bool{"$select": true, "$filter": true, "$top": true, "$skiptoken": true, "$expand": true}

// knownOptions are OData system query options Graph knows, with or without
// the dollar sign.
var knownOptions = map[string]bool{
	"select": true, "filter": true, "top": true, "skiptoken": true, "orderby": true, "expand": true,
	"count": true, "search": true, "skip": true, "format": true, "deltatoken": true,
}

// parseQuery parses a raw query string robustly: percent-encoded keys
// ("%24select"), dollar-less keys ("select"), '+' as space, stray ';'.
func parseQuery(raw string) (odataQuery, error) {
	q := odataQuery{top: defaultPageSize, after: -1}
	seen := map[string]bool{}
	for _, piece := range strings.Split(raw, "&") {
		if piece == "" {
			continue
		}
		k, v, _ := strings.Cut(piece, "=")
		key, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return q, fmt.Errorf("the query string %q is not properly percent-encoded", piece)
		}
		key = strings.ToLower(strings.TrimSpace(key))
		if !strings.HasPrefix(key, "$") && knownOptions[key] {
			key = "$" + key
		}
		if !strings.HasPrefix(key, "$") {
			q.rawParams = append(q.rawParams, piece) // not OData: ignored, like Graph
			continue
		}
		if !supportedOptions[key] {
			return q, fmt.Errorf("fakeentra does not implement the query option '%s'", key)
		}
		if seen[key] {
			return q, fmt.Errorf("Query option '%s' was specified more than once, but it must be specified at most once.", key)
		}
		seen[key] = true
		switch key {
		case "$select":
			q.sel = []string{}
			for _, name := range strings.Split(val, ",") {
				if name = strings.TrimSpace(name); name != "" {
					q.sel = append(q.sel, name)
				}
			}
		case "$filter":
			q.filter = strings.TrimSpace(val)
		case "$top":
			n, err := strconv.Atoi(strings.TrimSpace(val))
			if err != nil || n < 1 || n > maxPageSize {
				return q, fmt.Errorf("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", val, maxPageSize)
			}
			q.top, q.topSet = n, true
		case "$expand":
			q.expand = strings.TrimSpace(val)
		case "$skiptoken":
			after, ok := decodeSkipToken(val)
			if !ok {
				return q, fmt.Errorf("Invalid $skiptoken %q.", val)
			}
			q.after = after
			continue // not copied into nextLink
		}
		q.rawParams = append(q.rawParams, piece)
	}
	return q, nil
}

const skipTokenPrefix = "fakeentra:"

// encodeSkipToken makes an opaque skiptoken for a sequence-number cursor.
func encodeSkipToken(seq int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(skipTokenPrefix + strconv.Itoa(seq)))
}

// decodeSkipToken reverses encodeSkipToken.
func decodeSkipToken(tok string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(tok))
	if err != nil || !strings.HasPrefix(string(b), skipTokenPrefix) {
		return 0, false
	}
	n, err := strconv.Atoi(string(b[len(skipTokenPrefix):]))
	return n, err == nil && n >= 0
}

// nextLink returns the absolute URL of the page after cursor seq: the same
// request with its $skiptoken replaced.
func (x *exchange) nextLink(q odataQuery, seq int) string {
	var sb strings.Builder
	sb.WriteString(x.s.URL())
	sb.WriteString(x.r.URL.EscapedPath())
	sb.WriteByte('?')
	for _, p := range q.rawParams {
		sb.WriteString(p)
		sb.WriteByte('&')
	}
	sb.WriteString("$skiptoken=")
	sb.WriteString(encodeSkipToken(seq))
	return sb.String()
}

// entityType describes the properties of one Graph entity type for $select
// and $filter.
type entityType struct {
	name     string   // e.g. "microsoft.graph.application"
	props    []string // canonical names; index = bit in a select mask
	defaults uint32   // mask used without $select
	colls    uint32   // mask of string-collection properties
}

// index returns the bit index of a property, matched case-insensitively.
func (t *entityType) index(name string) (int, bool) {
	for i, p := range t.props {
		if eq(p, name) {
			return i, true
		}
	}
	return 0, false
}

// selectMask resolves $select into a property mask.
func (t *entityType) selectMask(sel []string) (uint32, error) {
	if sel == nil {
		return t.defaults, nil
	}
	var m uint32
	for _, name := range sel {
		i, ok := t.index(name)
		if !ok {
			return 0, fmt.Errorf("Parsing OData Select and Expand failed: Could not find a property named '%s' on type '%s'. (fakeentra models only: %s)",
				name, t.name, strings.Join(t.props, ", "))
		}
		m |= 1 << i
	}
	return m, nil
}

// context returns the @odata.context of a response about set, with the
// $select list when there is one.
func (x *exchange) context(set string, sel []string, entity bool) string {
	c := x.s.URL() + "/" + x.version() + "/$metadata#" + set
	if len(sel) > 0 {
		c += "(" + strings.Join(sel, ",") + ")"
	}
	if entity {
		c += "/$entity"
	}
	return c
}

// version returns the API version segment of the request ("v1.0" or "beta").
func (x *exchange) version() string {
	segs := splitPath(x.r.URL.EscapedPath())
	if len(segs) > 0 {
		return segs[0]
	}
	return "v1.0"
}

// pageOf returns up to top items of cands (sorted by ascending seq) whose seq
// is above after and which keep accepts, and whether more such items follow.
// Its cost is O(log n + scanned items).
func pageOf[T any](cands []T, seq func(T) int, after, top int, keep func(T) bool) (out []T, more bool) {
	i := sort.Search(len(cands), func(i int) bool { return seq(cands[i]) > after })
	for ; i < len(cands); i++ {
		c := cands[i]
		if keep != nil && !keep(c) {
			continue
		}
		if len(out) == top {
			return out, true
		}
		out = append(out, c)
	}
	return out, false
}
