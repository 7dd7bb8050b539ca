// Package mimesplit takes attachments out of a MIME message without
// touching any other byte of it, so that a message too large for one Graph
// request can be sent as a draft (the rest, byte for byte) plus attachments
// uploaded separately (their decoded content, byte for byte).
//
// What cannot survive that trip is the attachment parts' own MIME framing
// (their header lines, transfer encoding and line wrapping): Graph takes an
// uploaded attachment as name, content type, content id and bytes, and
// Exchange renders the part again when it sends the message.
package mimesplit

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/textproto"
	"sort"
	"strings"
)

// Attachment is a leaf part taken out of a message.
type Attachment struct {
	Name        string // file name, decoded; "attachment" when the part has none
	ContentType string // media type without parameters, e.g. application/pdf
	ContentID   string // without angle brackets; "" when none
	Inline      bool   // Content-Disposition inline
	Data        []byte // the decoded content
}

// ErrTooLarge is returned when no choice of attachments makes the rest fit.
var ErrTooLarge = errors.New("the message is too large even without its attachments")

// part is a leaf part found in the message, with the byte range that
// removing it cuts: from the line break before its delimiter line to the
// line break before the next delimiter.
type part struct {
	cut     [2]int
	hdr     textproto.MIMEHeader
	content []byte
	parent  int // index of the enclosing multipart, for counting siblings
}

// Split returns msg without the fewest large attachments needed for
// fits(len(rest)) to hold, largest first, and those attachments. Only
// leaf parts that are attachments (a file name, a disposition, or a
// non-text type) are taken, and never the last part of a multipart. It
// returns ErrTooLarge when no choice fits, and a parse error when msg is
// not well-formed MIME.
func Split(msg []byte, fits func(n int) bool) ([]byte, []Attachment, error) {
	if fits(len(msg)) {
		return msg, nil, nil
	}
	hdr, bodyAt, err := readHeader(msg, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("message header: %w", err)
	}
	var leaves []part
	siblings := map[int]int{}
	if err := walk(msg, hdr, bodyAt, len(msg), -1, &leaves, siblings, 0); err != nil {
		return nil, nil, err
	}
	var cands []int
	for i, p := range leaves {
		if isAttachment(p.hdr) && p.parent >= 0 {
			cands = append(cands, i)
		}
	}
	sort.SliceStable(cands, func(a, b int) bool { return len(leaves[cands[a]].content) > len(leaves[cands[b]].content) })
	size := len(msg)
	var take []int
	for _, i := range cands {
		if fits(size) {
			break
		}
		p := leaves[i]
		if siblings[p.parent] <= 1 {
			continue
		}
		siblings[p.parent]--
		size -= p.cut[1] - p.cut[0]
		take = append(take, i)
	}
	if !fits(size) {
		return nil, nil, ErrTooLarge
	}
	sort.Slice(take, func(a, b int) bool { return leaves[take[a]].cut[0] < leaves[take[b]].cut[0] })
	rest := make([]byte, 0, size)
	at := 0
	var atts []Attachment
	for _, i := range take {
		p := leaves[i]
		rest = append(rest, msg[at:p.cut[0]]...)
		at = p.cut[1]
		a, err := decode(p)
		if err != nil {
			return nil, nil, err
		}
		atts = append(atts, a)
	}
	rest = append(rest, msg[at:]...)
	return rest, atts, nil
}

// walk collects the leaf parts of the entity whose header is hdr and whose
// body is msg[from:to]; parent is the index of the enclosing multipart.
func walk(msg []byte, hdr textproto.MIMEHeader, from, to, parent int, leaves *[]part, siblings map[int]int, depth int) error {
	mt, params, _ := mime.ParseMediaType(hdr.Get("Content-Type"))
	if !strings.HasPrefix(mt, "multipart/") || params["boundary"] == "" || depth > 20 {
		return nil
	}
	id := from // a multipart is known by where its body starts
	delims := delimiters(msg, from, to, params["boundary"])
	for i := 0; i+1 < len(delims); i++ {
		d, next := delims[i], delims[i+1]
		if d.close {
			break
		}
		ph, at, err := readHeader(msg[:next.lineBreak], d.end)
		if err != nil {
			return fmt.Errorf("part header: %w", err)
		}
		siblings[id]++
		pmt, _, _ := mime.ParseMediaType(ph.Get("Content-Type"))
		if strings.HasPrefix(pmt, "multipart/") {
			if err := walk(msg, ph, at, next.lineBreak, id, leaves, siblings, depth+1); err != nil {
				return err
			}
			continue
		}
		*leaves = append(*leaves, part{cut: [2]int{d.lineBreak, next.lineBreak}, hdr: ph, content: msg[at:next.lineBreak], parent: id})
	}
	return nil
}

// delimiter is a boundary line: lineBreak is where the line break before
// it starts (or the line's start when there is none), end is just after
// the line's own line break.
type delimiter struct {
	lineBreak, end int
	close          bool
}

// delimiters finds the boundary lines of a multipart body msg[from:to].
func delimiters(msg []byte, from, to int, boundary string) []delimiter {
	dash := []byte("--" + boundary)
	var out []delimiter
	for i := from; i < to; {
		j := bytes.Index(msg[i:to], dash)
		if j < 0 {
			break
		}
		j += i
		if j > from && msg[j-1] != '\n' {
			i = j + len(dash)
			continue
		}
		d := delimiter{lineBreak: j}
		if j > from {
			d.lineBreak = j - 1
			if j-2 >= from && msg[j-2] == '\r' {
				d.lineBreak = j - 2
			}
		}
		k := j + len(dash)
		if bytes.HasPrefix(msg[k:to], []byte("--")) {
			d.close = true
			k += 2
		}
		for k < to && (msg[k] == ' ' || msg[k] == '\t') {
			k++
		}
		switch {
		case k == to:
		case msg[k] == '\n':
			k++
		case msg[k] == '\r' && k+1 < to && msg[k+1] == '\n':
			k += 2
		default: // a longer boundary that starts with this one
			i = k
			continue
		}
		d.end = k
		out = append(out, d)
		i = k
	}
	if len(out) > 0 && !out[len(out)-1].close {
		// An unterminated multipart: the last part runs to the end.
		out = append(out, delimiter{lineBreak: to, end: to, close: true})
	}
	return out
}

// readHeader reads the header block starting at msg[at:] and returns it
// with the offset of the body after the empty line.
func readHeader(msg []byte, at int) (textproto.MIMEHeader, int, error) {
	rest := msg[at:]
	end, skip := bytes.Index(rest, []byte("\r\n\r\n")), 4
	if lf := bytes.Index(rest, []byte("\n\n")); lf >= 0 && (end < 0 || lf < end) {
		end, skip = lf, 2
	}
	if bytes.HasPrefix(rest, []byte("\r\n")) {
		end, skip = 0, 2
	} else if bytes.HasPrefix(rest, []byte("\n")) {
		end, skip = 0, 1
	}
	if end < 0 {
		return nil, 0, errors.New("no empty line after the header")
	}
	if end == 0 {
		return textproto.MIMEHeader{}, at + skip, nil
	}
	r := textproto.NewReader(bufio.NewReader(io.MultiReader(bytes.NewReader(rest[:end]), strings.NewReader("\r\n\r\n"))))
	h, err := r.ReadMIMEHeader()
	if err != nil {
		return nil, 0, err
	}
	return h, at + end + skip, nil
}

// isAttachment reports whether a leaf part is a file rather than text.
func isAttachment(h textproto.MIMEHeader) bool {
	disp, dp, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	mt, cp, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return disp == "attachment" || dp["filename"] != "" || cp["name"] != "" ||
		(mt != "" && !strings.HasPrefix(mt, "text/") && !strings.HasPrefix(mt, "message/"))
}

// decode turns a leaf part into an Attachment.
func decode(p part) (Attachment, error) {
	disp, dp, _ := mime.ParseMediaType(p.hdr.Get("Content-Disposition"))
	mt, cp, _ := mime.ParseMediaType(p.hdr.Get("Content-Type"))
	if mt == "" {
		mt = "application/octet-stream"
	}
	name := dp["filename"]
	if name == "" {
		name = cp["name"]
	}
	if dec, err := new(mime.WordDecoder).DecodeHeader(name); err == nil {
		name = dec
	}
	if name == "" {
		name = "attachment"
	}
	a := Attachment{Name: name, ContentType: mt, Inline: disp == "inline",
		ContentID: strings.Trim(strings.TrimSpace(p.hdr.Get("Content-ID")), "<>")}
	switch strings.ToLower(strings.TrimSpace(p.hdr.Get("Content-Transfer-Encoding"))) {
	case "base64":
		data, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields(p.content), nil)))
		if err != nil {
			return Attachment{}, fmt.Errorf("attachment %q: %w", name, err)
		}
		a.Data = data
	case "quoted-printable":
		data, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(p.content)))
		if err != nil {
			return Attachment{}, fmt.Errorf("attachment %q: %w", name, err)
		}
		a.Data = data
	default:
		a.Data = append([]byte(nil), p.content...)
	}
	return a, nil
}
