package demo

import (
	"encoding/json"
	"strings"
)

// Block is a Block Kit block as the page draws it. Only what the page
// needs is kept; text is already rendered into spans.
type Block struct {
	Type    string `json:"type"` // section, header, context, divider, actions, input, image, or unsupported
	BlockID string `json:"block_id,omitempty"`
	// Text is a section's text, a header's title, or an image's alt text.
	Text      []Span    `json:"text,omitempty"`
	Fields    [][]Span  `json:"fields,omitempty"`
	Accessory *Element  `json:"accessory,omitempty"`
	Elements  []Element `json:"elements,omitempty"` // actions and context
	// Input blocks.
	Label    string `json:"label,omitempty"`
	Hint     []Span `json:"hint,omitempty"`
	Optional bool   `json:"optional,omitempty"`
	Input    *Input `json:"input,omitempty"`
	RawType  string `json:"raw_type,omitempty"` // the type of an unsupported block
}

// Element is an interactive or context element.
type Element struct {
	Type string `json:"type"` // button, text, image or unsupported
	// Text is a button's label or a context element's text.
	Text     []Span `json:"text,omitempty"`
	ActionID string `json:"action_id,omitempty"`
	Value    string `json:"value,omitempty"`
	Style    string `json:"style,omitempty"` // "", primary or danger
	URL      string `json:"url,omitempty"`
	// Confirm is the text of a confirmation dialog the button asks first.
	Confirm string `json:"confirm,omitempty"`
}

// Input is the element of an input block.
type Input struct {
	Type        string `json:"type"` // plain_text_input, or another element type shown as a text box
	ActionID    string `json:"action_id"`
	Placeholder string `json:"placeholder,omitempty"`
	Initial     string `json:"initial_value,omitempty"`
	Multiline   bool   `json:"multiline,omitempty"`
	MaxLength   int    `json:"max_length,omitempty"`
}

// textObject is a Block Kit text object.
type textObject struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func (t *textObject) spans(names nameFunc) []Span {
	if t == nil {
		return nil
	}
	if t.Type == "mrkdwn" {
		return renderMrkdwn(t.Text, names)
	}
	return renderPlain(emoji(t.Text))
}

func (t *textObject) plain() string {
	if t == nil {
		return ""
	}
	return t.Text
}

// rawElement is any Block Kit element, as sent.
type rawElement struct {
	Type string `json:"type"`
	// Text is a text object for buttons, a string for context elements.
	Text        json.RawMessage `json:"text"`
	ActionID    string          `json:"action_id"`
	Value       string          `json:"value"`
	Style       string          `json:"style"`
	URL         string          `json:"url"`
	AltText     string          `json:"alt_text"`
	Placeholder *textObject     `json:"placeholder"`
	Initial     string          `json:"initial_value"`
	Multiline   bool            `json:"multiline"`
	MaxLength   int             `json:"max_length"`
	Confirm     *struct {
		Text *textObject `json:"text"`
	} `json:"confirm"`
}

// rawBlock is any Block Kit block, as sent.
type rawBlock struct {
	Type      string       `json:"type"`
	BlockID   string       `json:"block_id"`
	Text      *textObject  `json:"text"`
	Fields    []textObject `json:"fields"`
	Accessory *rawElement  `json:"accessory"`
	Elements  []rawElement `json:"elements"`
	Label     *textObject  `json:"label"`
	Hint      *textObject  `json:"hint"`
	Optional  bool         `json:"optional"`
	Element   *rawElement  `json:"element"`
	AltText   string       `json:"alt_text"`
	Title     *textObject  `json:"title"`
}

// renderBlocks turns a Block Kit blocks array into what the page draws.
// Malformed input renders as nothing rather than failing the page.
func renderBlocks(raw json.RawMessage, names nameFunc) []Block {
	var in []rawBlock
	if len(raw) == 0 || json.Unmarshal(raw, &in) != nil {
		return nil
	}
	out := make([]Block, 0, len(in))
	for _, b := range in {
		out = append(out, renderBlock(b, names))
	}
	return out
}

func renderBlock(b rawBlock, names nameFunc) Block {
	out := Block{Type: b.Type, BlockID: b.BlockID}
	switch b.Type {
	case "section":
		out.Text = b.Text.spans(names)
		for _, f := range b.Fields {
			out.Fields = append(out.Fields, f.spans(names))
		}
		if b.Accessory != nil {
			e := renderElement(*b.Accessory, names)
			out.Accessory = &e
		}
	case "header":
		out.Text = renderPlain(emoji(b.Text.plain()))
	case "divider":
	case "context", "actions":
		for _, e := range b.Elements {
			out.Elements = append(out.Elements, renderElement(e, names))
		}
	case "image":
		out.Text = renderPlain("[image: " + b.AltText + "]")
	case "input":
		out.Label = b.Label.plain()
		out.Hint = b.Hint.spans(names)
		out.Optional = b.Optional
		if b.Element != nil {
			out.Input = &Input{
				Type: b.Element.Type, ActionID: b.Element.ActionID, Placeholder: b.Element.Placeholder.plain(),
				Initial: b.Element.Initial, Multiline: b.Element.Multiline, MaxLength: b.Element.MaxLength,
			}
		}
	default:
		out.Type, out.RawType = "unsupported", b.Type
	}
	return out
}

func renderElement(e rawElement, names nameFunc) Element {
	switch e.Type {
	case "button":
		out := Element{Type: "button", Text: renderPlain(emoji(textOf(e))), ActionID: e.ActionID, Value: e.Value, Style: e.Style}
		if strings.HasPrefix(e.URL, "https://") || strings.HasPrefix(e.URL, "http://") {
			out.URL = e.URL
		}
		if e.Confirm != nil {
			out.Confirm = e.Confirm.Text.plain()
		}
		return out
	case "mrkdwn", "plain_text":
		return Element{Type: "text", Text: (&textObject{Type: e.Type, Text: textOf(e)}).spans(names)}
	case "image":
		return Element{Type: "image", Text: renderPlain(e.AltText)}
	}
	return Element{Type: "unsupported", Text: renderPlain("[" + e.Type + "]")}
}

// textOf is an element's text: a string for context elements, a text
// object for buttons.
func textOf(e rawElement) string {
	var s string
	if json.Unmarshal(e.Text, &s) == nil {
		return s
	}
	var t textObject
	if json.Unmarshal(e.Text, &t) == nil {
		return t.Text
	}
	return ""
}
