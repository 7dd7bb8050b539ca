package demo

import (
	"encoding/json"
	"reflect"
	"testing"
)

func names(id string) string { return map[string]string{"UALICE": "alice"}[id] }

func TestRenderMrkdwn(t *testing.T) {
	text := func(s string) Span { return Span{T: "text", S: s} }
	for _, tc := range []struct {
		name, in string
		want     []Span
	}{
		{"plain", "hello", []Span{text("hello")}},
		{"bold italic strike", "*a* _b_ ~c~", []Span{{T: "text", S: "a", Bold: true}, text(" "), {T: "text", S: "b", Italic: true}, text(" "), {T: "text", S: "c", Strike: true}}},
		{"underscores inside words stay", "action_id and snake_case_name", []Span{text("action_id and snake_case_name")}},
		{"lone marker stays", "5 * 3", []Span{text("5 * 3")}},
		{"code is not formatted", "`*x* <@UALICE>`", []Span{{T: "text", S: "*x* <@UALICE>", Code: true}}},
		{"unpaired backtick stays", "a`b", []Span{text("a`b")}},
		{"pre", "x```line1\n*y*```z", []Span{text("x"), {T: "pre", S: "line1\n*y*"}, text("z")}},
		{"line breaks", "a\nb", []Span{text("a"), {T: "br"}, text("b")}},
		{"breaks around pre", "*P*\n```s3cret```\n*C*", []Span{{T: "text", S: "P", Bold: true}, {T: "pre", S: "s3cret"}, {T: "text", S: "C", Bold: true}}},
		{"unpaired fence stays", "a```b", []Span{text("a```b")}},
		{"mention known", "hi <@UALICE>", []Span{text("hi "), {T: "mention", S: "@alice"}}},
		{"mention with label", "<@UBOB|bob>", []Span{{T: "mention", S: "@bob"}}},
		{"mention unknown", "<@UZED>", []Span{{T: "mention", S: "@UZED"}}},
		{"channel", "<#C1|helpdesk>", []Span{{T: "mention", S: "#helpdesk"}}},
		{"special", "<!here>", []Span{{T: "mention", S: "@here"}}},
		{"link", "<https://example.test/a?b=1&amp;c=2|docs>", []Span{{T: "link", S: "docs", Href: "https://example.test/a?b=1&c=2"}}},
		{"javascript is no link", "<javascript:alert(1)|x>", []Span{text("<javascript:alert(1)|x>")}},
		{"escaped user text stays text", "&lt;@UALICE&gt; &amp;lt;", []Span{text("<@UALICE> &lt;")}},
		{"html is text", "<b>bold</b>", []Span{text("<b>bold</b>")}},
		{"emoji", ":key: Your", []Span{text("🔑 Your")}},
		{"bold mention", "*by <@UALICE>*", []Span{{T: "text", S: "by ", Bold: true}, {T: "mention", S: "@alice", Bold: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := renderMrkdwn(tc.in, names); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("renderMrkdwn(%q)\n got %+v\nwant %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestRenderBlocks(t *testing.T) {
	raw := `[
	 {"type":"section","text":{"type":"plain_text","text":"*not bold*"},"fields":[{"type":"mrkdwn","text":"*f1*"}],
	  "accessory":{"type":"button","action_id":"del","value":"k1","style":"danger","text":{"type":"plain_text","text":"Delete"},
	  "confirm":{"title":{"type":"plain_text","text":"Sure?"},"text":{"type":"plain_text","text":"Really delete?"}}}},
	 {"type":"context","elements":[{"type":"mrkdwn","text":"_c_"},{"type":"image","image_url":"x","alt_text":"pic"}]},
	 {"type":"input","block_id":"name","label":{"type":"plain_text","text":"Name"},"optional":true,
	  "element":{"type":"plain_text_input","action_id":"n","multiline":true,"max_length":64,"placeholder":{"type":"plain_text","text":"e.g."}}},
	 {"type":"actions","block_id":"b","elements":[{"type":"button","action_id":"go","url":"javascript:alert(1)","text":{"type":"plain_text","text":"Go"}},{"type":"static_select","action_id":"s"}]},
	 {"type":"rich_text"}
	]`
	got := renderBlocks(json.RawMessage(raw), names)
	want := []Block{
		{Type: "section", Text: []Span{{T: "text", S: "*not bold*"}}, Fields: [][]Span{{{T: "text", S: "f1", Bold: true}}},
			Accessory: &Element{Type: "button", Text: []Span{{T: "text", S: "Delete"}}, ActionID: "del", Value: "k1", Style: "danger", Confirm: "Really delete?"}},
		{Type: "context", Elements: []Element{{Type: "text", Text: []Span{{T: "text", S: "c", Italic: true}}}, {Type: "image", Text: []Span{{T: "text", S: "pic"}}}}},
		{Type: "input", BlockID: "name", Label: "Name", Optional: true, Input: &Input{Type: "plain_text_input", ActionID: "n", Placeholder: "e.g.", Multiline: true, MaxLength: 64}},
		{Type: "actions", BlockID: "b", Elements: []Element{{Type: "button", Text: []Span{{T: "text", S: "Go"}}, ActionID: "go"}, {Type: "unsupported", Text: []Span{{T: "text", S: "[static_select]"}}}}},
		{Type: "unsupported", RawType: "rich_text"},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("renderBlocks\n got %s\nwant %s", g, w)
	}
	if got := renderBlocks(json.RawMessage(`{"not":"an array"}`), names); got != nil {
		t.Errorf("malformed blocks render as %+v, want nothing", got)
	}
}

func TestSlackText(t *testing.T) {
	d := &Demo{People: seededPeople()}
	for _, tc := range []struct{ in, want string }{
		{"create Mail & Calendar", "create Mail &amp; Calendar"},
		{"revoke @alice --all left", "revoke <@UALICE|alice> --all left"},
		{"revoke @Alice <@UADAM>", "revoke <@UALICE|alice> &lt;@UADAM&gt;"},
		{"show @nobody", "show @nobody"},
	} {
		if got := d.slackText(tc.in); got != tc.want {
			t.Errorf("slackText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCompareTS(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1700000000.000001", "1700000000.000002", -1},
		{"999999999.999999", "1000000000.000000", -1},
		{"1700000000.5", "1700000000.5", 0},
	} {
		if got := compareTS(tc.a, tc.b); (got < 0) != (tc.want < 0) || (got == 0) != (tc.want == 0) {
			t.Errorf("compareTS(%s, %s) = %d, want sign %d", tc.a, tc.b, got, tc.want)
		}
	}
}
