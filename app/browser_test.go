package app_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/apppass/apppass/demo"
)

// browserProblems collects what a person would see go wrong in the
// browser's developer tools: console errors, uncaught exceptions and
// failed requests.
type browserProblems struct {
	mu   sync.Mutex
	list []string
	done bool // the walkthrough ended: closing the page's streams is no failure
}

func (b *browserProblems) add(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.done {
		b.list = append(b.list, fmt.Sprintf(format, args...))
	}
}

func (b *browserProblems) stop() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done = true
	return b.list
}

// chromiumPath finds Debian's chromium; a missing one skips the test
// locally and fails it where APPPASS_REQUIRE_SERVERS is set (CI).
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("APPPASS_REQUIRE_SERVERS") != "" {
		t.Fatal("chromium is not installed (Debian package chromium) and APPPASS_REQUIRE_SERVERS is set")
	}
	t.Skip("chromium is not installed (Debian package chromium)")
	return ""
}

// TestDemoInABrowser clicks through the README's demo walkthrough in
// headless Chromium: create a password as Alice, list hers, ask for a
// revocation as Adam, approve it as Hana in #helpdesk, read Alice's DM.
// It fails on a console error, a failed request or a :shortcode: left
// literal on the page. With APPPASS_UPDATE_SCREENSHOT=1 it writes the
// README's docs/demo.png.
func TestDemoInABrowser(t *testing.T) {
	chromium := chromiumPath(t)
	// A fixed free port rather than :0, since the secret message (and the
	// screenshot) shows the configured port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	smtpAddr := ln.Addr().String()
	ln.Close()
	p := startDemoOn(t, smtpAddr)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 800), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	var problems browserProblems
	listenErr := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value))
				}
				problems.add("console %s: %s", ev.Type, strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			problems.add("exception: %s", ev.ExceptionDetails.Text)
		case *network.EventLoadingFailed:
			if ev.Type == network.ResourceTypeEventSource && ev.Canceled {
				return // the page closes its stream when one switches person
			}
			problems.add("request failed: %s %s", ev.ErrorText, ev.BlockedReason)
		case *network.EventResponseReceived:
			if ev.Response.Status >= 400 {
				problems.add("%s answered %d", ev.Response.URL, ev.Response.Status)
			}
		}
	})
	if listenErr != nil {
		t.Fatalf("start chromium: %v", listenErr)
	}

	// waitText waits until the pane shows want.
	waitText := func(step, want string) {
		t.Helper()
		expr := fmt.Sprintf(`document.getElementById("pane").innerText.includes(%s)`, strconv.Quote(want))
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			pane, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("pane").innerText`))
			t.Fatalf("%s: the page never showed %q: %v\npane:\n%s\nbrowser: %v", step, want, err, pane, problems.stop())
		}
	}
	js := func(step, code string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](code)); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	send := func(text string) {
		t.Helper()
		js("type "+text, fmt.Sprintf(`document.getElementById("text").value = %s; document.getElementById("composer").requestSubmit();`, strconv.Quote(text)))
	}
	// be switches person and waits until the page shows what they see.
	be := func(user, email string) {
		t.Helper()
		js("switch to "+user, fmt.Sprintf(`{const w = document.getElementById("who"); w.value = %q; w.dispatchEvent(new Event("change"));}`, user))
		expr := fmt.Sprintf(`document.getElementById("role").textContent === %q`, email)
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			t.Fatalf("the page never became %s's: %v", email, err)
		}
	}
	open := func(label string) {
		t.Helper()
		js("open "+label, fmt.Sprintf(`[...document.querySelectorAll("#nav button")].find((b) => b.innerText.startsWith(%q)).click()`, label))
	}
	click := func(label string) {
		t.Helper()
		js("click "+label, fmt.Sprintf(`[...document.querySelectorAll("#pane button")].reverse().find((b) => b.innerText.trim() === %q).click()`, label))
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(p.url+"?user="+demo.Employee+"&view=D"+demo.Employee)); err != nil {
		t.Fatalf("open the demo page: %v", err)
	}
	waitText("the page", "This is your conversation with apppass")

	send("/apppass create Laptop Mail")
	waitText("create", "shown only this once")
	send("/apppass list")
	waitText("list", "4 of 40")

	be(demo.Admin, "adam@contoso.test")
	open("● apppass")
	send(`/apppass revoke @alice @hugo "Office scanner" scanner replaced`)
	waitText("revoke", "is filed")

	be(demo.HelpdeskB, "hugo@contoso.test")
	open("# helpdesk")
	waitText("the request in #helpdesk", "Revocation request #1")
	click("Approve")
	waitText("hugo may not approve", "Your own app passwords are among these")

	be(demo.HelpdeskA, "hana@contoso.test")
	open("# helpdesk")
	waitText("the request in #helpdesk", "Revocation request #1")
	click("Approve")
	waitText("approve", "Approved by @hana")

	be(demo.Employee, "alice@contoso.test")
	open("● apppass")
	waitText("alice is told", "Office scanner")

	body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	if codes := regexp.MustCompile(`:[a-z0-9_+-]+:`).FindAllString(body, -1); len(codes) > 0 {
		t.Errorf("the page shows shortcodes literally: %v", codes)
	}
	if strings.Contains(body, "#"+demo.HelpdeskChannel) {
		t.Errorf("the page shows the channel id %s instead of its name", demo.HelpdeskChannel)
	}

	if os.Getenv("APPPASS_UPDATE_SCREENSHOT") != "" {
		// The README's picture: Alice's conversation, scrolled to her new
		// password and the list after it.
		js("scroll to the secret", `[...document.querySelectorAll("#pane .msg, #pane > *")].find((e) => e.innerText.includes("shown only this once"))?.scrollIntoView()`)
		if err := chromedp.Do(ctx, chromedp.Sleep(300*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(filepath.Join("..", "docs", "demo.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote docs/demo.png (%d bytes)", len(png))
	}
	if list := problems.stop(); len(list) > 0 {
		t.Errorf("the browser reported problems:\n%s", strings.Join(list, "\n"))
	}
}
