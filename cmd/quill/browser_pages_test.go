package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// The pages in Chromium beyond the main flows: axe-core's accessibility
// checks on every page in both color schemes, the account page's messages
// in view, pages of posts in the address bar, the sessions list in the
// reader's time zone, /docs laid out and readable, and a phone's screen.

// axeScript is axe-core, the accessibility checker, which npm ci installs
// from testdata/axe/package-lock.json (CI does).
const axeScript = "testdata/axe/node_modules/axe-core/axe.min.js"

// requireAxe returns axe-core's script. Without it the test is skipped,
// or fails when QUILL_BROWSER_TESTS=required.
func requireAxe(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(axeScript)
	if err != nil {
		if os.Getenv("QUILL_BROWSER_TESTS") == "required" {
			t.Fatalf("QUILL_BROWSER_TESTS=required, but axe-core is missing (cd cmd/quill/testdata/axe && npm ci): %v", err)
		}
		t.Skipf("the accessibility checks need axe-core (cd cmd/quill/testdata/axe && npm ci): %v", err)
	}
	return string(src)
}

// axeViolation is what axe-core reports of one rule a page breaks.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target         []any  `json:"target"`
		HTML           string `json:"html"`
		FailureSummary string `json:"failureSummary"`
	} `json:"nodes"`
}

// colorScheme emulates the reader's preferred color scheme, "light" or
// "dark".
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

// checkA11y runs axe-core on the page the tab shows, in the light and
// the dark color scheme, and fails the test on any violation. The script
// is put in through the DevTools protocol, which the page's
// Content-Security-Policy does not govern.
func (b *browser) checkA11y(what, axe string) {
	b.t.Helper()
	for _, scheme := range []string{"light", "dark"} {
		b.do("prefer the "+scheme+" color scheme", colorScheme(scheme))
		res, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(async () => {
			if (typeof axe === "undefined") {
				(0, eval)(`+jsLiteral(axe)+`);
			}
			const r = await axe.run(document, { resultTypes: ["violations"] });
			return JSON.stringify(r.violations);
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			b.t.Fatalf("axe-core on %s (%s): %v", what, scheme, err)
		}
		var violations []axeViolation
		if err := json.Unmarshal([]byte(res), &violations); err != nil {
			b.t.Fatalf("axe-core on %s (%s): %v", what, scheme, err)
		}
		for _, v := range violations {
			var nodes []string
			for _, n := range v.Nodes {
				nodes = append(nodes, fmt.Sprintf("    %v %s\n      %s", n.Target, n.HTML, strings.ReplaceAll(n.FailureSummary, "\n", "\n      ")))
			}
			b.t.Errorf("%s, %s color scheme: axe-core %s (%s): %s\n%s", what, scheme, v.ID, v.Impact, v.Help, strings.Join(nodes, "\n"))
		}
		if len(violations) > 0 {
			b.screenshot("a11y-" + scheme)
		}
	}
	b.do("back to the light color scheme", colorScheme("light"))
}

// jsLiteral is s as a JavaScript string literal, any character escaped
// as JSON escapes it (a script of many lines, say).
func jsLiteral(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// eval runs a JavaScript expression on the tab's page and returns its
// value; a failure ends the test.
func eval[T any](b *browser, what, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.screenshot("failure")
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// wantInView fails unless the element sel is wholly inside the viewport.
func (b *browser) wantInView(sel string) {
	b.t.Helper()
	in := eval[bool](b, "where is "+sel, fmt.Sprintf(`(() => {
		const r = document.querySelector(%s).getBoundingClientRect();
		return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
	})()`, jsLiteral(sel)))
	if !in {
		b.screenshot("not-in-view")
		b.t.Errorf("%s is not in view at %s", sel, b.location())
	}
}

// wantNoSideScroll fails if the page is wider than the window.
func (b *browser) wantNoSideScroll(what string) {
	b.t.Helper()
	if w := eval[[]int](b, "page width", `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
		b.screenshot("side-scroll")
		b.t.Errorf("%s is %d px wide in a window of %d", what, w[0], w[1])
	}
}

// logIn logs the browser in through the login page.
func (b *browser) logIn(username, password string) {
	b.t.Helper()
	b.open("/login")
	b.do("log in as "+username, append(fill("#username", username, "#password", password),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#whoami")))...)
}

// browserA11y runs axe-core on every page, as a visitor and logged in,
// forms shown again with their errors included, in both color schemes.
func browserA11y(t *testing.T, base string) {
	axe := requireAxe(t)
	register(t, base, "ivy", "ivy@example.com", "a long passphrase 50")
	token := apiLogin(t, base, "ivy", "a long passphrase 50")
	for i := 1; i <= 11; i++ {
		apiCall(t, "POST", base+"/api/posts", token, fmt.Sprintf(`{"title":"Post %d","content":"Number %d."}`, i, i), http.StatusCreated)
	}
	b := newBrowser(t, base)
	check := func(path string) {
		t.Helper()
		b.open(path)
		b.checkA11y(path, axe)
	}
	for _, path := range []string{"/", "/posts/1", "/users/1/posts", "/login", "/register", "/forgot-password",
		"/reset-password?token=" + strings.Repeat("A", 43), "/no/such/page", "/posts/abc", "/?cursor=nonsense"} {
		check(path)
	}
	b.open("/")
	older := eval[string](b, "the older posts' link", `document.querySelector("a[data-load-more]").getAttribute("href")`)
	check(older)

	b.open("/register")
	b.do("register with faults", append(fill("#username", "ivy", "#email", "ivy@", "#password", "short"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#password-error")))...)
	b.checkA11y("the register form with its errors", axe)

	b.logIn("ivy", "a long passphrase 50")
	b.checkA11y("the home page, logged in", axe)
	for _, path := range []string{"/account", "/posts/new", "/posts/1/edit", "/users/1/posts"} {
		check(path)
	}
	b.open("/posts/new")
	b.do("publish nothing",
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#title-error")))
	b.checkA11y("the post form with its errors", axe)
	b.open("/account")
	b.do("change the password wrongly", append(fill("#password-current_password", "not my password", "#password-new_password", "short"),
		chromedp.Click(chromedp.CSS("#password button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#password-new_password-error")))...)
	b.checkA11y("the account page with the password form's errors", axe)
	b.open("/posts/1")
	b.do("delete a post",
		chromedp.Click(chromedp.CSS("details.danger summary")),
		chromedp.Click(chromedp.CSS("details.danger button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#flash")))
	b.checkA11y("a page with a confirmation", axe)
}

// browserAccountMessages checks that after a failed change on the account
// page the browser shows that form's section, its message in view and the
// focus on the field to fix; and that a change's confirmation is in view.
func browserAccountMessages(t *testing.T, base string) {
	register(t, base, "jack", "jack@example.com", "a long passphrase 51")
	notPicture := filepath.Join(t.TempDir(), "notes.png")
	if err := os.WriteFile(notPicture, []byte("not a picture at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	photo := filepath.Join(t.TempDir(), "me.png")
	writePNG(t, photo, 320, 240)
	b := newBrowser(t, base)
	b.logIn("jack", "a long passphrase 51")

	b.open("/account")
	b.do("change the password with a wrong current one", append(fill("#password-current_password", "not my password", "#password-new_password", "a longer passphrase 52"),
		chromedp.Click(chromedp.CSS("#password button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#password-current_password-error")))...)
	if got := b.location(); got != "/account/password#password" {
		t.Errorf("after a failed password change the browser is at %s, want /account/password#password", got)
	}
	b.wantText("#password-current_password-error", "That is not your current password.")
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`document.activeElement.id === "password-current_password"`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("the focus is on %q, not the current password field (%v)", eval[string](b, "the focus", `document.activeElement.id`), err)
	}
	b.wantInView("#password-current_password-error")
	b.wantInView("#password h2")
	b.screenshot("password-error")

	b.open("/account")
	b.do("upload a file that is no picture",
		chromedp.SetUploadFiles(chromedp.CSS("#picture-file"), []string{notPicture}),
		chromedp.Click(chromedp.CSS("#picture button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#picture-file-error")))
	if got := b.location(); got != "/account/picture#picture" {
		t.Errorf("after a failed upload the browser is at %s, want /account/picture#picture", got)
	}
	b.wantText("#picture-file-error", "That file is not a picture quill can read. Use a JPEG, PNG, GIF or WebP image.")
	b.wantInView("#picture-file-error")

	b.do("upload a picture",
		chromedp.SetUploadFiles(chromedp.CSS("#picture-file"), []string{photo}),
		chromedp.Click(chromedp.CSS("#picture button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#picture #flash")))
	b.wantText("#picture #flash", "Your new picture is saved.")
	b.wantInView("#picture #flash")
	if got := b.location(); got != "/account#picture" {
		t.Errorf("after an upload the browser is at %s, want /account#picture", got)
	}

	b.do("change the password", append(fill("#password-current_password", "a long passphrase 51", "#password-new_password", "a longer passphrase 52"),
		chromedp.Click(chromedp.CSS("#password button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#password #flash")))...)
	b.wantText("#password #flash", "Your password is changed; every other session is logged out.")
	b.wantInView("#password #flash")
	if role := eval[string](b, "the confirmation's role", `document.getElementById("flash").getAttribute("role")`); role != "status" {
		t.Errorf("the confirmation's role is %q, want status", role)
	}
	b.open("/account")
	if n := eval[int](b, "confirmations", `document.querySelectorAll("#flash").length`); n != 0 {
		t.Errorf("the confirmation shows again on the next visit")
	}
	b.screenshot("password-changed")
}

// browserPages checks that pages of posts are in the address bar: "Older
// posts" adds the next page and its URL, Back and Forward step through
// them, reloading keeps the reader's place, and "Newer posts" goes back.
func browserPages(t *testing.T, base string) {
	register(t, base, "kate", "kate@example.com", "a long passphrase 53")
	token := apiLogin(t, base, "kate", "a long passphrase 53")
	for i := 1; i <= 25; i++ {
		apiCall(t, "POST", base+"/api/posts", token, fmt.Sprintf(`{"title":"Post %d","content":"Number %d."}`, i, i), http.StatusCreated)
	}
	b := newBrowser(t, base)
	b.open("/")
	count := func() int { return eval[int](b, "count the posts", `document.querySelectorAll("#posts > li").length`) }
	if n := count(); n != 10 {
		t.Fatalf("the home page shows %d posts, want 10", n)
	}
	b.do("load older posts",
		chromedp.Click(chromedp.CSS("a[data-load-more]")),
		chromedp.WaitVisible(chromedp.CSS("#posts > li:nth-child(20)")))
	page2 := b.location()
	if !strings.HasPrefix(page2, "/?cursor=") {
		t.Errorf("after Older posts the address is %s, want /?cursor=…", page2)
	}
	if got := eval[string](b, "the focus", `document.activeElement.textContent`); got != "Post 15" {
		t.Errorf("after Older posts the focus is on %q, want the first new post, Post 15", got)
	}
	b.do("load older posts again",
		chromedp.Click(chromedp.CSS("a[data-load-more]")),
		chromedp.WaitVisible(chromedp.CSS("#posts > li:nth-child(25)")))
	page3 := b.location()
	if n := count(); n != 25 || page3 == page2 || !strings.HasPrefix(page3, "/?cursor=") {
		t.Errorf("after two pages: %d posts at %s, want 25 at a third address", n, page3)
	}
	if hidden := eval[bool](b, "the older posts' link", `document.querySelector("a[data-load-more]").hidden`); !hidden {
		t.Errorf("the last page still offers older posts")
	}

	b.do("go back", chromedp.Evaluate[chromedp.Void](`history.back()`), chromedp.WaitNotPresent(chromedp.CSS("#posts > li:nth-child(21)")))
	if got, n := b.location(), count(); got != page2 || n != 20 {
		t.Errorf("Back: %d posts at %s, want 20 at %s", n, got, page2)
	}
	b.do("go back again", chromedp.Evaluate[chromedp.Void](`history.back()`), chromedp.WaitNotPresent(chromedp.CSS("#posts > li:nth-child(11)")))
	if got, n := b.location(), count(); got != "/" || n != 10 {
		t.Errorf("Back again: %d posts at %s, want 10 at /", n, got)
	}
	b.do("go forward", chromedp.Evaluate[chromedp.Void](`history.forward()`), chromedp.WaitVisible(chromedp.CSS("#posts > li:nth-child(20)")))
	if got := b.location(); got != page2 {
		t.Errorf("Forward: at %s, want %s", got, page2)
	}

	// Reloading the second page's address shows that page, with a way
	// back to newer posts.
	b.open(page2)
	b.wantText("#posts > li:first-child h2", "Post 15")
	if n := count(); n != 10 {
		t.Errorf("the second page on its own shows %d posts, want 10", n)
	}
	b.do("go to newer posts",
		chromedp.Click(chromedp.CSS("a[rel=prev]")),
		chromedp.WaitVisible(chromedp.CSS("#posts")))
	if got := b.location(); got != "/" {
		t.Errorf("Newer posts from the second page led to %s, want /", got)
	}
	b.wantText("#posts > li:first-child h2", "Post 25")
	b.screenshot("pages")
}

// browserSessions checks the sessions list: this browser first, each
// client in a few words, times in the reader's zone, buttons on one line.
func browserSessions(t *testing.T, base string) {
	register(t, base, "liam", "liam@example.com", "a long passphrase 54")
	apiLogin(t, base, "liam", "a long passphrase 54") // a session of "Go program"
	b := newBrowser(t, base)
	zone := "Asia/Kolkata" // UTC+05:30: no UTC time reads the same
	b.do("be in "+zone, chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		if _, err := cdp.Call(ctx, target, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, target, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: "en-US"})
		return err
	}))
	b.logIn("liam", "a long passphrase 54")
	b.open("/account")
	items := eval[[]string](b, "the sessions", `Array.from(document.querySelectorAll("#sessions li strong")).map(s => s.textContent)`)
	if len(items) != 2 || !regexp.MustCompile(`^(Headless )?Chrome on Linux$`).MatchString(items[0]) || items[1] != "Go program" {
		t.Errorf("the sessions list shows %q, want this Chrome on Linux first, then the Go program", items)
	}
	if !eval[bool](b, "the first session", `document.querySelector("#sessions li").classList.contains("current")`) {
		t.Errorf("the first session listed is not this browser's")
	}
	kolkata, err := time.LoadLocation(zone)
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	times := eval[[][2]string](b, "the times", `Array.from(document.querySelectorAll("#sessions time")).map(t => [t.getAttribute("datetime"), t.textContent])`)
	if len(times) != 4 {
		t.Errorf("the sessions list has %d times, want 4", len(times))
	}
	for _, tm := range times {
		at, err := time.Parse(time.RFC3339, tm[0])
		if err != nil {
			t.Errorf("<time datetime=%q>: %v", tm[0], err)
			continue
		}
		want := at.In(kolkata).Format("Jan 2, 2006, 3:04 PM")
		if got := strings.ReplaceAll(tm[1], "\u202f", " "); got != want {
			t.Errorf("<time datetime=%q> shows %q, want %q in %s", tm[0], tm[1], want, zone)
		}
	}
	b.wantButtonsOnOneLine("#sessions button")
	b.screenshot("sessions")
}

// wantButtonsOnOneLine fails if a button sel matches wraps its text.
func (b *browser) wantButtonsOnOneLine(sel string) {
	b.t.Helper()
	lines := eval[[]float64](b, "lines of "+sel, fmt.Sprintf(`Array.from(document.querySelectorAll(%s)).map(b => {
		const cs = getComputedStyle(b);
		return (b.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom)) / parseFloat(cs.lineHeight);
	})`, jsLiteral(sel)))
	if len(lines) == 0 {
		b.t.Errorf("no button %s", sel)
	}
	for _, n := range lines {
		if n > 1.5 {
			b.screenshot("button-lines")
			b.t.Errorf("a button %s takes %.1f lines, want 1", sel, n)
		}
	}
}

// browserDocsLayout checks /docs in a wide window: Swagger UI as wide as
// the page, readable in the dark color scheme, its Authorize dialog asking
// for a username and a password only, and no accessibility faults.
func browserDocsLayout(t *testing.T, base string) {
	axe := requireAxe(t)
	b := newBrowser(t, base)
	b.do("a wide window", chromedp.EmulateViewport(1440, 900))
	b.open("/docs")
	b.do("wait for Swagger UI", chromedp.WaitVisible(chromedp.CSS("#operations .opblock")))
	widths := eval[map[string]float64](b, "widths", `(() => {
		const w = sel => document.querySelector(sel).getBoundingClientRect().width;
		return { main: w("body > main"), panel: w(".swagger"), operations: w("#operations"), header: w("header.site") };
	})()`)
	if widths["panel"] < 1300 || widths["operations"] < widths["panel"]-80 {
		t.Errorf("in a 1440 px window /docs is %v px wide: want the panel and its operations about as wide as the window", widths)
	}
	if n := eval[int](b, "mains", `document.querySelectorAll("main").length`); n != 1 {
		t.Errorf("/docs has %d <main>, want 1", n)
	}
	for _, scheme := range []string{"light", "dark"} {
		b.do("prefer "+scheme, colorScheme(scheme))
		colors := eval[[]string](b, "colors", `(() => {
			const s = getComputedStyle(document.querySelector(".swagger"));
			const tag = getComputedStyle(document.querySelector(".opblock-tag"));
			return [s.backgroundColor, tag.color];
		})()`)
		if colors[0] != "rgb(255, 255, 255)" || colors[1] != "rgb(59, 65, 81)" {
			t.Errorf("%s scheme: the docs panel is %s with headings in %s, want white with #3b4151", scheme, colors[0], colors[1])
		}
		b.screenshot("docs-" + scheme)
	}
	b.checkA11y("/docs", axe)

	b.do("open Authorize",
		chromedp.Click(chromedp.CSS(".swagger-ui .auth-wrapper button.authorize")),
		chromedp.WaitVisible(chromedp.CSS("#oauth_username")))
	shown := eval[[]string](b, "the dialog's fields", `Array.from(document.querySelectorAll(".dialog-ux input, .dialog-ux select"))
		.filter(el => el.offsetParent !== null).map(el => el.id)`)
	if strings.Join(shown, ",") != "oauth_username,oauth_password" {
		t.Errorf("the Authorize dialog shows the fields %q, want a username and a password", shown)
	}
	if text := eval[string](b, "the dialog's text", `document.querySelector(".dialog-ux").innerText`); strings.Contains(text, "scope") || strings.Contains(text, "client") {
		t.Errorf("the Authorize dialog speaks of scopes or clients:\n%s", text)
	}
	b.checkA11y("/docs with the Authorize dialog", axe)
	b.screenshot("docs-authorize")
}

// browserPhone walks the main flows on a phone's screen: nothing wider
// than the screen, buttons on one line, no accessibility faults.
func browserPhone(t *testing.T, base string) {
	axe := requireAxe(t)
	b := newBrowser(t, base)
	b.do("a phone's screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(3)))
	b.open("/")
	b.do("go to the register page", chromedp.Click(chromedp.CSS(`header a[href="/register"]`)), chromedp.WaitVisible(chromedp.CSS("#email")))
	b.wantNoSideScroll("the register page")
	b.checkA11y("the register page on a phone", axe)
	b.do("register", append(fill("#username", "mia", "#email", "mia@example.com", "#password", "a long passphrase 55"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#flash")))...)
	b.do("write a post", append(append([]chromedp.Action[chromedp.Void]{
		chromedp.Click(chromedp.CSS(`header a[href="/posts/new"]`)),
		chromedp.WaitVisible(chromedp.CSS("#content")),
	}, fill("#title", "From my phone", "#content", strings.Repeat("A long line without breaks ", 20))...),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#flash")))...)
	b.wantNoSideScroll("a post")
	b.checkA11y("a post on a phone", axe)
	b.open("/")
	b.wantNoSideScroll("the home page")
	b.checkA11y("the home page on a phone", axe)

	other := b.newSession()
	other.logIn("mia", "a long passphrase 55")
	b.open("/account")
	b.wantNoSideScroll("the account page")
	b.wantButtonsOnOneLine("#sessions button")
	b.checkA11y("the account page on a phone", axe)
	b.open("/docs")
	b.do("wait for Swagger UI", chromedp.WaitVisible(chromedp.CSS("#operations .opblock")))
	b.checkA11y("/docs on a phone", axe)
	b.screenshot("phone-docs")
}
