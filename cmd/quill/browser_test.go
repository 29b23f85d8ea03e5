package main

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/quill-blog/quill/internal/mail/mailpittest"
	"github.com/quill-blog/quill/internal/quillproc"
)

// The browser tests drive the real quill binary with Debian's Chromium,
// headless, through the flows a person would follow. Each leaves a
// screenshot of its last screen in its artifact directory: run
//
//	go test ./cmd/quill -run Browser -artifacts -outputdir /tmp/quill-shots
//
// to keep them. Every page must load nothing from another origin and cause
// no Content-Security-Policy violation or script error.

const chromiumPath = "/usr/bin/chromium"

// browserTimeout bounds a whole flow, so a wait for an element that never
// comes fails the test instead of hanging it. It is a safety net, not a
// measurement.
const browserTimeout = 3 * time.Minute

func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("QUILL_BROWSER_TESTS") == "required" {
			t.Fatalf("QUILL_BROWSER_TESTS=required, but Chromium is not at %s: %v", chromiumPath, err)
		}
		t.Skipf("browser tests need Chromium at %s (Debian: apt-get install chromium): %v", chromiumPath, err)
	}
	if testing.Short() {
		t.Skip("browser tests build the binary and start Chromium; skipped in -short mode")
	}
	quillBinary(t) // a failed build fails here, not in every flow
	t.Run("PostLifecycle", func(t *testing.T) { browserPostLifecycle(t, startBinary(t)) })
	t.Run("Account", func(t *testing.T) { browserAccount(t, startBinary(t)) })
	t.Run("ForgotPassword", func(t *testing.T) { browserForgotPassword(t) })
	t.Run("Docs", func(t *testing.T) { browserDocs(t, startBinary(t)) })
	t.Run("ErrorPage", func(t *testing.T) { browserErrorPage(t, startBinary(t)) })
	t.Run("LoadMore", func(t *testing.T) { browserLoadMore(t, startBinary(t)) })
	t.Run("Markdown", func(t *testing.T) { browserMarkdown(t, startBinary(t)) })
	t.Run("Passkeys", browserPasskeys)
	t.Run("Search", func(t *testing.T) { browserSearch(t, startBinary(t)) })
	t.Run("A11y", func(t *testing.T) { browserA11y(t, startBinary(t)) })
	t.Run("AccountMessages", func(t *testing.T) { browserAccountMessages(t, startBinary(t)) })
	t.Run("Pages", func(t *testing.T) { browserPages(t, startBinary(t)) })
	t.Run("Sessions", func(t *testing.T) { browserSessions(t, startBinary(t)) })
	t.Run("DocsLayout", func(t *testing.T) { browserDocsLayout(t, startBinary(t)) })
	t.Run("Phone", func(t *testing.T) { browserPhone(t, startBinary(t)) })
	t.Run("VerifyEmail", func(t *testing.T) { browserVerifyEmail(t) })
	t.Run("TwoFactor", func(t *testing.T) { browserTwoFactor(t, startBinary(t)) })
}

// startBinary runs `quill serve` on a free port of 127.0.0.1 with a new
// database and rate limits off, and returns its base URL. The server is
// stopped with SIGTERM when the test ends, and must exit 0 (serveBinary).
func startBinary(t *testing.T, env ...string) string {
	t.Helper()
	return serveBinary(t, t.TempDir(), append([]string{"SECRET_KEY=" + newSecretKey(t), "RATE_LIMITS=off"}, env...)...).URL
}

// browser is a headless Chromium with one tab on the site at base.
type browser struct {
	t    *testing.T
	base string
	ctx  context.Context

	mu       sync.Mutex
	foreign  []string // requests to any other origin
	problems []string // CSP violations and script errors
	status   int      // of the last page (document) response
}

// newBrowser starts Chromium for t, in a profile of its own.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.WindowSize(1024, 768),
	)
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	t.Cleanup(cancel)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	b := &browser{t: t, base: base}
	b.ctx = b.watch(tabCtx)
	return b
}

// newSession opens a tab in a new browser context of the same Chromium:
// a second browser, with cookies of its own.
func (b *browser) newSession() *browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	other := &browser{t: b.t, base: b.base}
	other.ctx = other.watch(ctx)
	return other
}

// watch starts the tab of ctx and records what it loads and reports.
func (b *browser) watch(ctx context.Context) context.Context {
	b.t.Helper()
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("start Chromium: %v", err)
	}
	origin := b.base + "/"
	err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			u := ev.Request.URL
			if !strings.HasPrefix(u, origin) && !strings.HasPrefix(u, "data:") && u != b.base {
				b.foreign = append(b.foreign, u)
			}
		case *network.EventResponseReceived:
			if ev.Type == network.ResourceTypeDocument {
				b.status = int(ev.Response.Status)
			}
		case *log.EventEntryAdded:
			if ev.Entry.Source == log.EntrySourceSecurity || strings.Contains(ev.Entry.Text, "Content Security Policy") {
				b.problems = append(b.problems, fmt.Sprintf("%s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.problems = append(b.problems, fmt.Sprintf("script error: %s (%s:%d)", msg, d.URL, d.LineNumber))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				b.problems = append(b.problems, "console.error: "+strings.Join(parts, " "))
			}
		}
	})
	if err != nil {
		b.t.Fatalf("listen to Chromium: %v", err)
	}
	b.t.Cleanup(b.checkClean)
	return ctx
}

// checkClean fails the test if any page loaded something from another
// origin, broke the CSP or threw.
func (b *browser) checkClean() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.foreign) > 0 {
		b.t.Errorf("requests to other origins (the site must need none): %q", b.foreign)
	}
	if len(b.problems) > 0 {
		b.t.Errorf("the browser reported:\n%s", strings.Join(b.problems, "\n"))
	}
}

// do runs actions; a failure ends the test with a screenshot.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.screenshot("failure")
		b.t.Fatalf("%s: %v", what, err)
	}
}

// open navigates to path and waits for the page to load.
func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
}

// text is the text of the first element sel matches.
func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.screenshot("failure")
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// location is the path (and query) of the page the tab shows.
func (b *browser) location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("location: %v", err)
	}
	return strings.TrimPrefix(loc, b.base)
}

// pageStatus is the HTTP status of the page the tab shows.
func (b *browser) pageStatus() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status
}

// fill types into the empty form fields given as selector, value pairs.
func fill(pairs ...string) []chromedp.Action[chromedp.Void] {
	var actions []chromedp.Action[chromedp.Void]
	for i := 0; i+1 < len(pairs); i += 2 {
		sel := chromedp.CSS(pairs[i])
		actions = append(actions, chromedp.WaitVisible(sel), chromedp.SendKeys(sel, pairs[i+1]))
	}
	return actions
}

// screenshot saves the tab's screen as name.png in the test's artifact
// directory.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(b.t.ArtifactDir(), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Errorf("save screenshot: %v", err)
		return
	}
	b.t.Logf("screenshot: %s", path)
}

// wantText fails unless the element sel shows want.
func (b *browser) wantText(sel, want string) {
	b.t.Helper()
	if got := b.text(sel); got != want {
		b.screenshot("failure")
		b.t.Fatalf("%s shows %q, want %q (at %s)", sel, got, want, b.location())
	}
}

// browserPostLifecycle is flow 1: register and land logged in, write a
// post, see it on the home page, edit it, delete it, log out; then the
// account page sends you to the login page.
func browserPostLifecycle(t *testing.T, base string) {
	b := newBrowser(t, base)
	b.open("/")
	b.do("go to the register page", chromedp.Click(chromedp.CSS(`header a[href="/register"]`)), chromedp.WaitVisible(chromedp.CSS("#email")))
	b.do("register", append(fill("#username", "carol", "#email", "carol@example.com", "#password", "a long passphrase 42"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#whoami")))...)
	b.wantText("#whoami", "carol")
	if got := b.location(); got != "/" {
		t.Errorf("after registering the browser is at %s, want /", got)
	}

	b.do("write a post", append(append([]chromedp.Action[chromedp.Void]{
		chromedp.Click(chromedp.CSS(`header a[href="/posts/new"]`)),
		chromedp.WaitVisible(chromedp.CSS("#content")),
	}, fill("#title", "Hello, browser", "#content", "Written in Chromium.\nTwo lines.")...),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("article.single")))...)
	b.wantText("article.single h1", "Hello, browser")
	b.wantText("#flash", "Your post is published.")
	post := b.location()

	b.do("see it on the home page", chromedp.Click(chromedp.CSS("a.brand")), chromedp.WaitVisible(chromedp.CSS("#posts")))
	b.wantText("#posts li:first-child h2", "Hello, browser")

	b.do("edit it", append(append([]chromedp.Action[chromedp.Void]{
		chromedp.Click(chromedp.CSS("#posts li:first-child h2 a")),
		chromedp.WaitVisible(chromedp.CSS("article.single")),
		chromedp.Click(chromedp.CSS(`a[href$="/edit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#title")),
		chromedp.Clear(chromedp.CSS("#title")),
	}, fill("#title", "Hello again, browser")...),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("article.single")))...)
	b.wantText("article.single h1", "Hello again, browser")
	b.wantText("#flash", "Your changes are saved.")
	if got := b.location(); got != post {
		t.Errorf("after editing the browser is at %s, want %s", got, post)
	}

	b.do("delete it",
		chromedp.Click(chromedp.CSS("details.danger summary")),
		chromedp.WaitVisible(chromedp.CSS("details.danger button[type=submit]")),
		chromedp.Click(chromedp.CSS("details.danger button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("header.author")))
	b.wantText("main h1", "Posts by carol")
	b.wantText("#flash", "Your post is deleted.")
	b.wantText("p.empty", "No posts yet.")
	b.open(post)
	if got := b.pageStatus(); got != http.StatusNotFound {
		t.Errorf("the deleted post's page answered %d, want 404", got)
	}

	b.do("log out",
		chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`header a[href="/login"]`)))
	b.open("/account")
	if got, want := b.location(), "/login?next=%2Faccount"; got != want {
		t.Errorf("after logging out, /account led to %s, want %s", got, want)
	}
	b.do("see the login form", chromedp.WaitVisible(chromedp.CSS("#password")))
	b.screenshot("logged-out-account")
}

// browserAccount is flow 2: on the account page, rename, upload a picture
// (and see it on your posts), change the password; log in from a second
// browser, see both sessions, end the other one: the second browser is
// logged out on its next action.
func browserAccount(t *testing.T, base string) {
	register(t, base, "frank", "frank@example.com", "a long passphrase 45")
	apiCall(t, "POST", base+"/api/posts", apiLogin(t, base, "frank", "a long passphrase 45"),
		`{"title":"Frank's post","content":"Hello."}`, http.StatusCreated)
	photo := filepath.Join(t.TempDir(), "me.png")
	writePNG(t, photo, 400, 300)

	b := newBrowser(t, base)
	b.open("/login")
	b.do("log in", append(fill("#username", "frank", "#password", "a long passphrase 45"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#whoami")))...)

	b.do("rename", append([]chromedp.Action[chromedp.Void]{
		chromedp.Click(chromedp.CSS("a.me")),
		chromedp.WaitVisible(chromedp.CSS("#profile #username")),
		chromedp.Clear(chromedp.CSS("#profile #username")),
	}, append(fill("#profile #username", "frank.renamed"),
		chromedp.Click(chromedp.CSS("#profile button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("p.notice")))...)...)
	b.wantText("#whoami", "frank.renamed")

	b.do("upload a picture",
		chromedp.SetUploadFiles(chromedp.CSS("#picture-file"), []string{photo}),
		chromedp.Click(chromedp.CSS("#picture button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(`form[action^="/account/picture/delete"]`)))
	b.wantText("p.notice", "Your new picture is saved.")
	picture, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById("picture-current").getAttribute("src")`))
	if err != nil || !strings.HasPrefix(picture, "/media/profile_pics/") {
		t.Fatalf("the account page shows the picture %q (%v), want an uploaded one", picture, err)
	}
	b.do("see it on my posts",
		chromedp.Click(chromedp.CSS("#my-posts")),
		chromedp.WaitVisible(chromedp.CSS("#posts")))
	if got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("#posts .post .avatar").getAttribute("src")`)); err != nil || got != picture {
		t.Errorf("my post shows the picture %q (%v), want %q", got, err, picture)
	}
	// The picture really loads: 300×300, as the server makes them.
	if w, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelector("#posts .post .avatar").naturalWidth`)); err != nil || w != 300 {
		t.Errorf("the picture's natural width = %d (%v), want 300", w, err)
	}

	b.open("/account")
	b.do("change the password", append(fill("#password-current_password", "a long passphrase 45", "#password-new_password", "an even longer passphrase 46"),
		chromedp.Click(chromedp.CSS("#password button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("p.notice")))...)
	b.wantText("p.notice", "Your password is changed; every other session is logged out.")

	other := b.newSession()
	other.open("/login")
	other.do("log in from a second browser", append(fill("#username", "frank@example.com", "#password", "an even longer passphrase 46"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#whoami")))...)

	b.open("/account")
	sessions := func() int {
		n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#sessions li").length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := sessions(); n != 2 {
		t.Fatalf("the account page lists %d sessions, want 2", n)
	}
	b.do("end the other session",
		chromedp.Click(chromedp.CSS("#sessions li:not(.current) button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("p.notice")))
	b.wantText("p.notice", "That session is logged out.")
	if n := sessions(); n != 1 {
		t.Errorf("after ending the other session the page lists %d, want 1", n)
	}

	other.do("the second browser's next action",
		chromedp.Click(chromedp.CSS(`header a[href="/posts/new"]`)),
		chromedp.WaitVisible(chromedp.CSS("#password")))
	if got := other.location(); got != "/login?next=%2Fposts%2Fnew" {
		t.Errorf("the second browser went to %s, want the login page", got)
	}
	other.do("the second browser is logged out", chromedp.WaitVisible(chromedp.CSS(`header a[href="/login"]`)))
	other.screenshot("other-browser-logged-out")
	b.screenshot("account")
}

// writePNG writes a w×h test image to path.
func writePNG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 160, 255})
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// browserForgotPassword is flow 3: forgot the password, read the mail
// from an SMTP sink, open its link, set a new password, log in with it.
func browserForgotPassword(t *testing.T) {
	sink := mailpittest.Start(t, mailpittest.Options{})
	// The link in the mail is made from PUBLIC_URL, which defaults to
	// http://ADDR, so the port must be known before the server starts.
	addr, err := quillproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	base := startBinary(t, "ADDR="+addr, "SMTP_URL=smtp://"+sink.SMTPAddr+"?starttls=never")
	register(t, base, "grace", "grace@example.com", "a long passphrase 47")

	b := newBrowser(t, base)
	b.open("/login")
	b.do("ask for a reset link", append([]chromedp.Action[chromedp.Void]{
		chromedp.Click(chromedp.CSS(`a[href="/forgot-password"]`)),
		chromedp.WaitVisible(chromedp.CSS("#email")),
	}, append(fill("#email", "Grace@Example.com"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#forgot-sent")))...)...)

	m := waitMail(t, sink, "grace@example.com", "Reset your password")
	link := resetLinkRE.FindString(m.Text)
	if !strings.HasPrefix(link, base+"/reset-password?token=") {
		t.Fatalf("the mail has no reset link to %s:\n%s", base, m.Text)
	}

	b.do("open the link and set a new password", append([]chromedp.Action[chromedp.Void]{
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS("#new_password")),
	}, append(fill("#new_password", "a fresh passphrase 48"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#flash")))...)...)
	b.do("log in with it", append(fill("#username", "grace", "#password", "a fresh passphrase 48"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#whoami")))...)
	b.wantText("#whoami", "grace")
	b.screenshot("logged-in-after-reset")
}

var resetLinkRE = regexp.MustCompile(`http://[^\s]+/reset-password\?token=[A-Za-z0-9_-]+`)

// browserDocs is flow 4: on /docs, Authorize with a username and password
// (the OAuth2 password flow), then Try it out on /api/users/me: 200 with
// the user.
func browserDocs(t *testing.T, base string) {
	register(t, base, "dave", "dave@example.com", "a long passphrase 43")
	b := newBrowser(t, base)
	b.open("/docs")
	b.do("open Authorize",
		chromedp.WaitVisible(chromedp.CSS(".swagger-ui .auth-wrapper button.authorize")),
		chromedp.Click(chromedp.CSS(".swagger-ui .auth-wrapper button.authorize")),
		chromedp.WaitVisible(chromedp.CSS("#oauth_username")))
	b.do("log in through the password flow", append(fill("#oauth_username", "dave", "#oauth_password", "a long passphrase 43"),
		chromedp.Click(chromedp.CSS(".auth-btn-wrapper button.authorize")),
		chromedp.WaitVisible(chromedp.CSS(`.auth-btn-wrapper button[aria-label$="Remove authorization"]`)),
		chromedp.Click(chromedp.CSS(".auth-btn-wrapper button.btn-done")),
		chromedp.WaitNotPresent(chromedp.CSS(".dialog-ux")))...)
	b.do("try /api/users/me",
		chromedp.Click(chromedp.CSS("#operations-users-getMe .opblock-summary-control")),
		chromedp.WaitVisible(chromedp.CSS("#operations-users-getMe .try-out__btn")),
		chromedp.Click(chromedp.CSS("#operations-users-getMe .try-out__btn")),
		chromedp.WaitVisible(chromedp.CSS("#operations-users-getMe button.execute")),
		chromedp.Click(chromedp.CSS("#operations-users-getMe button.execute")),
		chromedp.WaitVisible(chromedp.CSS("#operations-users-getMe .live-responses-table tbody .response-col_status")))
	b.wantText("#operations-users-getMe .live-responses-table tbody .response-col_status", "200")
	body := b.text("#operations-users-getMe .live-responses-table tbody .response-col_description pre")
	if !strings.Contains(body, `"username": "dave"`) || !strings.Contains(body, `"email": "dave@example.com"`) {
		t.Errorf("Try it out on /api/users/me showed %s, want dave's account", body)
	}
	b.screenshot("docs-users-me")
}

// browserErrorPage is flow 5: an unknown post is the HTML error page,
// with status 404.
func browserErrorPage(t *testing.T, base string) {
	b := newBrowser(t, base)
	b.open("/posts/424242")
	if got := b.pageStatus(); got != http.StatusNotFound {
		t.Errorf("GET /posts/424242 answered %d, want 404", got)
	}
	b.wantText("main h1", "Page not found")
	b.wantText("#error-message", "This post does not exist. It may have been deleted.")
	b.do("the page has the site's header", chromedp.WaitVisible(chromedp.CSS(`header a[href="/login"]`)))
	b.screenshot("not-found")
}

// browserLoadMore checks the pages' script: "Older posts" adds the next
// page below the first, without leaving it, and puts its address in the
// address bar (browserPages goes further).
func browserLoadMore(t *testing.T, base string) {
	register(t, base, "erin", "erin@example.com", "a long passphrase 44")
	token := apiLogin(t, base, "erin", "a long passphrase 44")
	for i := 1; i <= 12; i++ {
		apiCall(t, "POST", base+"/api/posts", token, fmt.Sprintf(`{"title":"Post %d","content":"Number %d."}`, i, i), http.StatusCreated)
	}
	b := newBrowser(t, base)
	b.open("/")
	count := func() int {
		n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#posts > li").length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 10 {
		t.Errorf("the home page shows %d posts, want 10", n)
	}
	b.do("load more",
		chromedp.Click(chromedp.CSS("a[data-load-more]")),
		chromedp.WaitNotVisible(chromedp.CSS("a[data-load-more]")),
		chromedp.WaitVisible(chromedp.CSS("#posts > li:nth-child(12)")))
	if n := count(); n != 12 {
		t.Errorf("after Older posts the page shows %d posts, want 12", n)
	}
	b.wantText("#posts > li:nth-child(12) h2", "Post 1")
	if got := b.location(); !strings.HasPrefix(got, "/?cursor=") {
		t.Errorf("after Older posts the address is %s, want the next page's, /?cursor=…", got)
	}
	b.screenshot("loaded-more")
}

// apiLogin logs in through the API and returns the access token.
func apiLogin(t *testing.T, base, username, password string) string {
	t.Helper()
	res, err := http.PostForm(base+"/api/users/token", map[string][]string{"username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("log in %s: %d, no token (%v)", username, res.StatusCode, err)
	}
	return tok.AccessToken
}

// apiCall sends a JSON request with a bearer token and checks the status.
func apiCall(t *testing.T, method, url, token, body string, want int) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != want {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("%s %s = %d %s, want %d", method, url, res.StatusCode, b, want)
	}
}

// register creates an account through the API.
func register(t *testing.T, base, username, email, password string) {
	t.Helper()
	body := fmt.Sprintf(`{"username":%q,"email":%q,"password":%q}`, username, email, password)
	res, err := http.Post(base+"/api/users", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("register %s = %d %s", username, res.StatusCode, b)
	}
}

// browserSearch is the search box in the header: a query typed there and
// sent with Enter shows the matching posts, the query's words marked,
// and pages on.
func browserSearch(t *testing.T, base string) {
	register(t, base, "grace", "grace@example.com", "a long passphrase 46")
	token := apiLogin(t, base, "grace", "a long passphrase 46")
	apiCall(t, "POST", base+"/api/posts", token, `{"title":"Café crème","content":"Where to drink a good café crème in Paris."}`, http.StatusCreated)
	for i := 1; i <= 11; i++ {
		apiCall(t, "POST", base+"/api/posts", token, fmt.Sprintf(`{"title":"Garden %d","content":"Notes from the garden, part %d."}`, i, i), http.StatusCreated)
	}
	b := newBrowser(t, base)
	b.open("/")
	b.do("search from the header", append(fill("header input[name=q]", "CAFE"),
		chromedp.SendKeys(chromedp.CSS("header input[name=q]"), "\r"),
		chromedp.WaitVisible(chromedp.CSS("#results")))...)
	if got := b.location(); got != "/search?q=CAFE" {
		t.Errorf("the header's search went to %s, want /search?q=CAFE", got)
	}
	b.wantText(".search-count", "1 post matches.")
	b.wantText("#results li:first-child h2", "Café crème")
	b.wantText("#results li:first-child h2 mark", "Café")

	b.do("search again from the page", append([]chromedp.Action[chromedp.Void]{chromedp.Clear(chromedp.CSS("#search-q"))},
		append(fill("#search-q", "gard*"),
			chromedp.Click(chromedp.CSS("main form button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS(`a[rel="next"]`)))...)...)
	b.wantText(".search-count", "11 posts match. Results 1–10.")
	b.do("see more results",
		chromedp.Click(chromedp.CSS(`a[rel="next"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[rel="prev"]`)))
	b.wantText(".search-count", "11 posts match. Result 11.")
	b.wantText("#results li:first-child h2", "Garden 1")
	b.screenshot("search")
}
