package fakeentra

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// TestWriteStringMatchesEncodingJSON checks the hand-written escaping
// against encoding/json on tricky and random strings.
func TestWriteStringMatchesEncodingJSON(t *testing.T) {
	cases := []string{"", "plain", `quote " back \ slash`, "<tag>&amp;", "tab\tnl\ncr\r\x00\x1f\x7f",
		"é ü 日本 🙂", "\u2028\u2029", "bad \xff utf8 \xc3", "O'Neil"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		want, _ := json.Marshal(s)
		var buf bytes.Buffer
		w := bufio.NewWriter(&buf)
		writeString(w, s)
		w.Flush()
		if buf.String() != string(want) {
			t.Fatalf("writeString(%q) = %s, want %s", s, buf.Bytes(), want)
		}
	}
}

// TestObjWriter checks that an object written field by field is valid JSON
// with the expected values.
func TestObjWriter(t *testing.T) {
	var buf bytes.Buffer
	w := bufio.NewWriterSize(&buf, 16) // tiny, to cross buffer boundaries
	o := beginObj(w)
	o.str("a", "x")
	o.strOrNull("b", "")
	o.boolean("c", true)
	ts := time.Date(2030, 5, 6, 7, 8, 9, 123000000, time.FixedZone("X", 3600))
	o.time("d", ts)
	o.time("e", time.Time{})
	o.strs("f", []string{"p", "q"})
	o.strs("g", nil)
	o.end()
	w.Flush()
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%s: %v", buf.Bytes(), err)
	}
	if got["a"] != "x" || got["b"] != nil || got["c"] != true || got["d"] != "2030-05-06T06:08:09.123Z" || got["e"] != nil {
		t.Errorf("%s", buf.Bytes())
	}
	if f, g := got["f"].([]any), got["g"].([]any); len(f) != 2 || g == nil || len(g) != 0 {
		t.Errorf("%s", buf.Bytes())
	}
}

// TestSkipTokenRoundTrip checks the cursor encoding.
func TestSkipTokenRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 998, 99_999} {
		if got, ok := decodeSkipToken(encodeSkipToken(n)); !ok || got != n {
			t.Errorf("%d → %d %v", n, got, ok)
		}
	}
	if _, ok := decodeSkipToken("RFNwdAIAAQAAAB"); ok {
		t.Error("foreign token accepted")
	}
}
