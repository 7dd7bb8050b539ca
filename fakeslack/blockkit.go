package fakeslack

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Block Kit limits that real Slack enforces (docs.slack.dev, Block Kit
// reference: blocks, block elements and composition objects). Lengths are
// counted in characters of the text as sent (entities such as &amp; count
// as sent).
const (
	maxBlockID          = 255
	maxSectionText      = 3000
	maxSectionFields    = 10
	maxFieldText        = 2000
	maxHeaderText       = 150
	maxContextElements  = 10
	maxActionsElements  = 25
	maxButtonText       = 75
	maxButtonValue      = 2000
	maxActionID         = 255
	maxURL              = 3000
	maxPlaceholder      = 150
	maxInputLabel       = 2000
	maxInputHint        = 2000
	maxInputLength      = 3000
	maxImageAltText     = 2000
	maxConfirmTitle     = 100
	maxConfirmText      = 300
	maxConfirmButton    = 30
	maxSelectOptions    = 100
	maxOptionText       = 75
	maxOptionValue      = 150
	maxOverflowOptions  = 5
	maxViewButtonLength = 24 // submit and close of a modal
)

// blockChecker collects Slack-style validation messages ("must be less
// than 3001 characters [json-pointer:/blocks/0/text/text]").
type blockChecker struct {
	msgs []string
}

func (c *blockChecker) fail(ptr, format string, args ...any) {
	c.msgs = append(c.msgs, fmt.Sprintf(format, args...)+" [json-pointer:"+ptr+"]")
}

// validateBlocks checks a blocks array against Block Kit's limits, at most
// maxBlocks blocks (50 in a message, 100 in a view). ptr is the JSON pointer
// of the array ("/blocks" or "/view/blocks"). It returns Slack's messages,
// without the "[ERROR] " prefix, or nil when the blocks are valid.
func validateBlocks(blocks []json.RawMessage, ptr string, maxBlocks int) []string {
	c := &blockChecker{}
	if len(blocks) > maxBlocks {
		c.fail(ptr, "no more than %d items allowed", maxBlocks)
	}
	for i, raw := range blocks {
		var b map[string]any
		p := ptr + "/" + strconv.Itoa(i)
		if json.Unmarshal(raw, &b) != nil || b == nil {
			c.fail(p, "must be an object")
			continue
		}
		c.block(p, b)
	}
	return c.msgs
}

// block checks one block.
func (c *blockChecker) block(p string, b map[string]any) {
	if id, ok := b["block_id"].(string); ok {
		c.maxLen(p+"/block_id", id, maxBlockID)
	}
	typ, _ := b["type"].(string)
	switch typ {
	case "section":
		_, hasText := b["text"]
		fields, hasFields := b["fields"].([]any)
		if !hasText && !hasFields {
			c.fail(p, "must define either `text` or `fields`")
		}
		if hasText {
			c.text(p+"/text", b["text"], "", 1, maxSectionText)
		}
		if hasFields {
			if len(fields) > maxSectionFields {
				c.fail(p+"/fields", "no more than %d items allowed", maxSectionFields)
			}
			for j, f := range fields {
				c.text(p+"/fields/"+strconv.Itoa(j), f, "", 1, maxFieldText)
			}
		}
		if acc, ok := b["accessory"]; ok {
			c.element(p+"/accessory", acc)
		}
	case "header":
		c.text(p+"/text", b["text"], "plain_text", 1, maxHeaderText)
	case "context":
		els, _ := b["elements"].([]any)
		switch {
		case len(els) == 0:
			c.fail(p+"/elements", "must provide at least 1 items")
		case len(els) > maxContextElements:
			c.fail(p+"/elements", "no more than %d items allowed", maxContextElements)
		}
		for j, e := range els {
			ep := p + "/elements/" + strconv.Itoa(j)
			if m, _ := e.(map[string]any); m != nil && m["type"] == "image" {
				c.image(ep, m)
				continue
			}
			c.text(ep, e, "", 1, maxSectionText)
		}
	case "actions":
		els, _ := b["elements"].([]any)
		switch {
		case len(els) == 0:
			c.fail(p+"/elements", "must provide at least 1 items")
		case len(els) > maxActionsElements:
			c.fail(p+"/elements", "no more than %d items allowed", maxActionsElements)
		}
		for j, e := range els {
			c.element(p+"/elements/"+strconv.Itoa(j), e)
		}
	case "input":
		c.text(p+"/label", b["label"], "plain_text", 1, maxInputLabel)
		if h, ok := b["hint"]; ok {
			c.text(p+"/hint", h, "plain_text", 1, maxInputHint)
		}
		if e, ok := b["element"]; ok {
			c.element(p+"/element", e)
		} else {
			c.fail(p, "missing required field: element")
		}
	case "image":
		c.image(p, b)
		if t, ok := b["title"]; ok {
			c.text(p+"/title", t, "plain_text", 1, maxImageAltText)
		}
	case "divider", "rich_text", "file", "video", "markdown", "table", "context_actions":
	case "":
		c.fail(p, "missing required field: type")
	default:
		c.fail(p, "failed to match all allowed schemas")
	}
}

// element checks an interactive element (accessory, actions, input).
func (c *blockChecker) element(p string, v any) {
	e, _ := v.(map[string]any)
	if e == nil {
		c.fail(p, "must be an object")
		return
	}
	if id, ok := e["action_id"].(string); ok {
		c.maxLen(p+"/action_id", id, maxActionID)
	}
	if ph, ok := e["placeholder"]; ok {
		c.text(p+"/placeholder", ph, "plain_text", 1, maxPlaceholder)
	}
	if cf, ok := e["confirm"]; ok {
		c.confirm(p+"/confirm", cf)
	}
	switch e["type"] {
	case "button":
		c.text(p+"/text", e["text"], "plain_text", 1, maxButtonText)
		if val, ok := e["value"].(string); ok {
			c.maxLen(p+"/value", val, maxButtonValue)
		}
		if u, ok := e["url"].(string); ok {
			c.maxLen(p+"/url", u, maxURL)
		}
		if st, ok := e["style"].(string); ok && st != "primary" && st != "danger" {
			c.fail(p+"/style", "must be one of the provided values")
		}
	case "plain_text_input":
		if iv, ok := e["initial_value"].(string); ok {
			c.maxLen(p+"/initial_value", iv, maxInputLength)
		}
		for _, k := range []string{"min_length", "max_length"} {
			if n, ok := e[k].(float64); ok && (n < 0 || n > maxInputLength) {
				c.fail(p+"/"+k, "must be at most %d", maxInputLength)
			}
		}
	case "static_select", "multi_static_select", "overflow", "radio_buttons", "checkboxes":
		opts, _ := e["options"].([]any)
		limit := maxSelectOptions
		if e["type"] == "overflow" {
			limit = maxOverflowOptions
		}
		if len(opts) > limit {
			c.fail(p+"/options", "no more than %d items allowed", limit)
		}
		for j, o := range opts {
			op := p + "/options/" + strconv.Itoa(j)
			m, _ := o.(map[string]any)
			if m == nil {
				c.fail(op, "must be an object")
				continue
			}
			c.text(op+"/text", m["text"], "", 1, maxOptionText)
			if val, ok := m["value"].(string); ok {
				c.maxLen(op+"/value", val, maxOptionValue)
			}
		}
	case "image":
		c.image(p, e)
	case nil:
		c.fail(p, "missing required field: type")
	}
}

// confirm checks a confirmation dialog object.
func (c *blockChecker) confirm(p string, v any) {
	m, _ := v.(map[string]any)
	if m == nil {
		c.fail(p, "must be an object")
		return
	}
	c.text(p+"/title", m["title"], "plain_text", 1, maxConfirmTitle)
	c.text(p+"/text", m["text"], "", 1, maxConfirmText)
	c.text(p+"/confirm", m["confirm"], "plain_text", 1, maxConfirmButton)
	c.text(p+"/deny", m["deny"], "plain_text", 1, maxConfirmButton)
}

// image checks an image block or element.
func (c *blockChecker) image(p string, m map[string]any) {
	alt, ok := m["alt_text"].(string)
	if !ok {
		c.fail(p, "missing required field: alt_text")
	}
	c.maxLen(p+"/alt_text", alt, maxImageAltText)
	if u, ok := m["image_url"].(string); ok {
		c.maxLen(p+"/image_url", u, maxURL)
	}
}

// text checks a text object: its type (wantType, or either type when
// empty) and the length of its text.
func (c *blockChecker) text(p string, v any, wantType string, minLen, maxLen int) {
	m, _ := v.(map[string]any)
	if m == nil {
		if v == nil {
			c.fail(p, "must provide an object")
		} else {
			c.fail(p, "must be an object")
		}
		return
	}
	typ, _ := m["type"].(string)
	switch {
	case wantType != "" && typ != wantType:
		c.fail(p+"/type", "must be %q", wantType)
	case typ != "plain_text" && typ != "mrkdwn":
		c.fail(p+"/type", "must be one of the provided values")
	}
	s, ok := m["text"].(string)
	if !ok {
		c.fail(p, "missing required field: text")
		return
	}
	if utf8.RuneCountInString(s) < minLen {
		c.fail(p+"/text", "must be more than %d characters", minLen-1)
	}
	c.maxLen(p+"/text", s, maxLen)
}

// maxLen checks a string's length in characters.
func (c *blockChecker) maxLen(p, s string, n int) {
	if utf8.RuneCountInString(s) > n {
		c.fail(p, "must be less than %d characters", n+1)
	}
}

// invalidBlocks is the Web API error response for rejected blocks: Slack
// answers {"ok":false,"error":"invalid_blocks","errors":[…],
// "response_metadata":{"messages":["[ERROR] …"]}}.
func invalidBlocks(msgs []string) map[string]any {
	return map[string]any{
		"errors":            msgs,
		"response_metadata": map[string]any{"messages": errorMessages(msgs)},
	}
}

// errorMessages prefixes each message with "[ERROR] " as Slack's
// response_metadata.messages do.
func errorMessages(msgs []string) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = "[ERROR] " + m
	}
	return out
}
