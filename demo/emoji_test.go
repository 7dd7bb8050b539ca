package demo

import (
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every :shortcode: in a string that apppass's messages are built from is
// drawn as an emoji by the page, so that none shows literally.
func TestEmojiTableCoversWhatAppPassSends(t *testing.T) {
	seen := map[string]string{}
	for _, dir := range []string{"../bot", "../jobs", "../handlers"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(gotoken.NewFileSet(), f, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != gotoken.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					return true
				}
				for _, code := range shortcode.FindAllString(s, -1) {
					seen[code] = f
				}
				return true
			})
		}
	}
	if len(seen) < 5 {
		t.Fatalf("found only %d shortcodes in apppass's messages; is the scan broken? %v", len(seen), seen)
	}
	for code, file := range seen {
		if got := emoji(code); got == code {
			t.Errorf("%s (in %s) is not in the page's emoji table", code, file)
		}
	}
	if got := emoji("ratio 3:2:1 and :custom_thing:"); got != "ratio 3:2:1 and :custom_thing:" {
		t.Errorf("unknown shortcodes changed: %q", got)
	}
}
