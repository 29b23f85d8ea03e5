package markdown

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"
)

func TestRender(t *testing.T) {
	const a = ` rel="nofollow ugc noopener"`
	for _, tc := range []struct {
		name, src, want string
	}{
		{"paragraph", "Hello, *world*.", "<p>Hello, <em>world</em>.</p>\n"},
		{"headings shift down", "# One\n## Two\n##### Five\n###### Six",
			"<h2>One</h2>\n<h3>Two</h3>\n<h6>Five</h6>\n<h6>Six</h6>\n"},
		{"setext heading", "Title\n=====", "<h2>Title</h2>\n"},
		{"list", "- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"},
		{"ordered list", "3. c\n4. d", "<ol start=\"3\">\n<li>c</li>\n<li>d</li>\n</ol>\n"},
		{"emphasis and strong", "*a* **b** ~~c~~", "<p><em>a</em> <strong>b</strong> <del>c</del></p>\n"},
		{"code", "`<b>` and\n\n```go\nx := 1 < 2\n```",
			"<p><code>&lt;b&gt;</code> and</p>\n<pre><code class=\"language-go\">x := 1 &lt; 2\n</code></pre>\n"},
		{"link", `[quill](https://example.com/a?b=1&c=2 "The title")`,
			`<p><a href="https://example.com/a?b=1&amp;c=2"` + a + ` title="The title">quill</a></p>` + "\n"},
		{"relative link", "[home](/) [post](/posts/1#top) [here](#x)",
			`<p><a href="/"` + a + `>home</a> <a href="/posts/1#top"` + a + `>post</a> <a href="#x"` + a + ">here</a></p>\n"},
		{"mailto link", "[me](mailto:me@example.com)", `<p><a href="mailto:me@example.com"` + a + ">me</a></p>\n"},
		{"autolinks", "<https://a.example> www.b.example c@d.example https://e.example/f",
			`<p><a href="https://a.example"` + a + `>https://a.example</a> <a href="http://www.b.example"` + a + `>www.b.example</a> ` +
				`<a href="mailto:c@d.example"` + a + `>c@d.example</a> <a href="https://e.example/f"` + a + ">https://e.example/f</a></p>\n"},
		{"reference link", "[x][1]\n\n[1]: https://example.com", `<p><a href="https://example.com"` + a + ">x</a></p>\n"},
		{"table", "| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |",
			"<table>\n<thead>\n<tr>\n<th align=\"left\">a</th>\n<th align=\"center\">b</th>\n<th align=\"right\">c</th>\n</tr>\n</thead>\n" +
				"<tbody>\n<tr>\n<td align=\"left\">1</td>\n<td align=\"center\">2</td>\n<td align=\"right\">3</td>\n</tr>\n</tbody>\n</table>\n"},
		{"task list", "- [x] done\n- [ ] to do",
			"<ul>\n<li><input checked=\"\" disabled=\"\" type=\"checkbox\"> done</li>\n<li><input disabled=\"\" type=\"checkbox\"> to do</li>\n</ul>\n"},
		{"local image", `![A cat](/static/cat.png "Tom")`, `<p><img src="/static/cat.png" alt="A cat" title="Tom" loading="lazy"></p>` + "\n"},
		{"external image is a link", "![A *cat*](https://img.example/cat.png)",
			`<p><a class="image-link" href="https://img.example/cat.png"` + a + ">A cat</a></p>\n"},
		{"external image without alt", "![](https://img.example/cat.png)",
			`<p><a class="image-link" href="https://img.example/cat.png"` + a + ">https://img.example/cat.png</a></p>\n"},
		{"protocol-relative image is a link", "![x](//img.example/cat.png)",
			`<p><a class="image-link" href="//img.example/cat.png"` + a + ">x</a></p>\n"},
		{"relative image is a link", "![x](cat.png)", `<p><a class="image-link" href="cat.png"` + a + ">x</a></p>\n"},
		{"external image in a link", "[![badge](https://img.example/b.svg)](https://example.com)",
			`<p><a href="https://example.com"` + a + ">badge</a></p>\n"},
		{"image with a javascript URL", "![x](javascript:alert(1))", "<p>x</p>\n"},
		{"inline HTML is text", "a <b onclick=\"x()\">b</b> &amp; &lt;i&gt;",
			"<p>a &lt;b onclick=&quot;x()&quot;&gt;b&lt;/b&gt; &amp; &lt;i&gt;</p>\n"},
		{"HTML block is text", "<div>\n<script>alert(1)</script>\n</div>",
			"<pre class=\"html\"><code>&lt;div&gt;\n&lt;script&gt;alert(1)&lt;/script&gt;\n&lt;/div&gt;</code></pre>\n"},
		{"script block is text", "<script>\nalert(1)\n</script>\n\nafter",
			"<pre class=\"html\"><code>&lt;script&gt;\nalert(1)\n&lt;/script&gt;\n</code></pre>\n<p>after</p>\n"},
		{"HTML comment is text", "<!-- hidden -->", "<pre class=\"html\"><code>&lt;!-- hidden --&gt;</code></pre>\n"},
		{"NUL", "a\x00b", "<p>a\uFFFDb</p>\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Render(tc.src).HTML); diff != "" {
				t.Errorf("Render(%q).HTML (-want +got):\n%s", tc.src, diff)
			}
			checkSafe(t, tc.src, Render(tc.src).HTML)
		})
	}
}

// TestDangerousLinks: no spelling of a script URL makes a live link.
func TestDangerousLinks(t *testing.T) {
	for _, dest := range []string{
		"javascript:alert(1)", "JaVaScRiPt:alert(1)", "JAVASCRIPT:alert(1)",
		"&#106;avascript:alert(1)", "&#x6A;avascript:alert(1)", "javascript&colon;alert(1)",
		"java&#x09;script:alert(1)", "java&#10;script:alert(1)", "java&#13;script:alert(1)", "&#x20;javascript:alert(1)",
		"&#0;javascript:alert(1)", "&Tab;javascript:alert(1)", "&NewLine;javascript:alert(1)",
		"<  javascript:alert(1)>", "< javascript:alert(1) >", `\javascript:alert(1)`,
		"vbscript:msgbox(1)", "VBScript:msgbox(1)", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
		"DATA:text/html,x", "data:image/png;base64,iVBORw0KGgo=", "file:///etc/passwd", "ftp://example.com/",
		"%6Aavascript:alert(1)", "jav%0Aascript:alert(1)",
	} {
		for _, src := range []string{
			"[click](" + dest + ")",
			"[click][r]\n\n[r]: " + dest,
			"![click](" + dest + ")",
			"<" + dest + ">",
		} {
			got := Render(src).HTML
			checkSafe(t, src, got)
			if strings.Contains(got, "<a ") || strings.Contains(got, "<img") {
				// Only a URL that browsers read as relative may remain,
				// and then a percent-encoded one.
				for _, u := range urlsIn(t, got) {
					if scheme, ok := schemeOf(u); ok || strings.ContainsAny(u, "\t\n\r ") {
						t.Errorf("Render(%q) = %q: a live link with scheme %q", src, got, scheme)
					}
				}
			}
		}
	}
}

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("word ", 100)
	for _, tc := range []struct {
		name, src, want string
		cut             bool
	}{
		{"one paragraph", "Just *this*.", "Just this.", false},
		{"first paragraph", "First [one](/x).\n\nSecond.", "First one.", true},
		{"after a heading", "# Title\n\nThe text\nwraps.", "The text wraps.", true},
		{"in a list", "- an item\n\n  with a paragraph", "an item", true},
		{"no paragraph", "# Only a heading", "Only a heading", false},
		{"heading and code", "## H\n\n```\ncode\n```", "H", true},
		{"raw HTML as text", "a <b>b</b> &amp; c", "a <b>b</b> & c", false},
		{"image alt text", "see ![a cat](https://x/c.png)", "see a cat", false},
		{"long", long, strings.Repeat("word ", 59) + "word…", true},
		{"long word", strings.Repeat("x", 400), strings.Repeat("x", 299) + "…", true},
		{"punctuation before the cut", strings.Repeat("abcd, ", 60), strings.TrimSuffix(strings.Repeat("abcd, ", 50), ", ") + "…", true},
		{"exactly the length", strings.Repeat("é", ExcerptLength), strings.Repeat("é", ExcerptLength), false},
		{"empty", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Render(tc.src)
			if r.Excerpt != tc.want || r.Cut != tc.cut {
				t.Errorf("Render(%q) excerpt = %q, cut %v; want %q, cut %v", tc.src, r.Excerpt, r.Cut, tc.want, tc.cut)
			}
			if n := len([]rune(r.Excerpt)); n > ExcerptLength {
				t.Errorf("Render(%q) excerpt has %d characters, want at most %d", tc.src, n, ExcerptLength)
			}
		})
	}
}

func TestText(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"# Title\n\nSome *emphasis*, a [link](https://x) and `code`.", "Title Some emphasis, a link and code."},
		{"- one\n- two\n\n> quoted", "one two quoted"},
		{"Before.\n\n```go\nfmt.Println(1)\n```\n\n    indented code", "Before. fmt.Println(1) indented code"},
		{"a <b>b</b> &amp; c\n\n<div>block</div>", "a <b>b</b> & c"},
		{"| h |\n|---|\n| cell |", "h cell"},
		{"", ""},
	} {
		if got := Text(tc.src); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.src, got, tc.want)
		}
	}
}

func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"# h\n\n*a* [b](http://c) ![d](/e.png) ![f](https://g/h.png)",
		"<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[a](javascript:alert(1))",
		"[a](java&#x09;script:x)", "| a |\n|---|\n| b |", "- [x] t", "www.example.com", "a@b.example",
		"[![i](https://x/i.png)](https://y)", "<a href=\"javascript:x\">y</a>", "```\n<script>\n```",
		"[a](<javascript:x> \"t\" onclick=\"y\")", "![a\" onerror=\"x](https://z)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		r := Render(src)
		checkSafe(t, src, r.HTML)
		if n := len([]rune(r.Excerpt)); n > ExcerptLength {
			t.Errorf("Render(%q) excerpt has %d characters", src, n)
		}
	})
}

var onAttr = regexp.MustCompile(`(?i)^on`)

// checkSafe fails t unless out, the HTML rendered from src, is safe: no
// script or other active element, no event handler attribute, no
// style, no script URL, and no image from another site. It reads out
// with a real HTML tokenizer, as a browser would.
func checkSafe(t *testing.T, src, out string) {
	t.Helper()
	if strings.Contains(strings.ToLower(out), "<script") {
		t.Errorf("Render(%q) = %q: has <script", src, out)
	}
	allowed := map[string]bool{
		"p": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "em": true, "strong": true, "del": true,
		"a": true, "img": true, "code": true, "pre": true, "ul": true, "ol": true, "li": true, "blockquote": true,
		"br": true, "hr": true, "table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true, "input": true,
	}
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				t.Errorf("Render(%q): tokenize: %v", src, z.Err())
			}
			return
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		if !allowed[tok.Data] {
			t.Errorf("Render(%q) = %q: element <%s>", src, out, tok.Data)
		}
		for _, at := range tok.Attr {
			v := strings.ToLower(browserURL(at.Val))
			switch {
			case onAttr.MatchString(at.Key) || at.Key == "style" || at.Key == "srcset" || at.Key == "formaction":
				t.Errorf("Render(%q) = %q: attribute %s", src, out, at.Key)
			case (at.Key == "href" || at.Key == "src") &&
				(strings.Contains(v, "javascript:") || strings.Contains(v, "vbscript:") || strings.HasPrefix(v, "data:")):
				t.Errorf("Render(%q) = %q: %s=%q", src, out, at.Key, at.Val)
			case tok.Data == "img" && at.Key == "src" && (!strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") || strings.HasPrefix(v, "/\\")):
				t.Errorf("Render(%q) = %q: image from another site, src=%q", src, out, at.Val)
			case tok.Data == "a" && at.Key == "rel" && at.Val != rel:
				t.Errorf("Render(%q) = %q: rel=%q", src, out, at.Val)
			}
		}
		if tok.Data == "a" && !hasAttr(tok, "rel") {
			t.Errorf("Render(%q) = %q: a link without rel", src, out)
		}
	}
}

func hasAttr(tok html.Token, key string) bool {
	for _, at := range tok.Attr {
		if at.Key == key {
			return true
		}
	}
	return false
}

// urlsIn lists the href and src values in out.
func urlsIn(t *testing.T, out string) []string {
	t.Helper()
	var urls []string
	z := html.NewTokenizer(strings.NewReader(out))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		for _, at := range z.Token().Attr {
			if at.Key == "href" || at.Key == "src" {
				urls = append(urls, at.Val)
			}
		}
	}
	return urls
}

// BenchmarkRender renders a post like those quill-bench seeds (about 200
// bytes of prose), and one of a few kilobytes with every kind of block.
func BenchmarkRender(b *testing.B) {
	short := "Benchmarks on shared machines drift, which is why every figure is a ratio against a baseline measured in the same run, alternating target and baseline so both see the same noise."
	var long strings.Builder
	for i := range 8 {
		fmt.Fprintf(&long, "## Part %d\n\nSome *emphasis*, a [link](https://example.com/%d) and `code`.\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n", i, i)
	}
	for _, bc := range []struct{ name, src string }{{"short", short}, {"long", long.String()}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.src)))
			for b.Loop() {
				Render(bc.src)
			}
		})
		b.Run(bc.name+"/cached", func(b *testing.B) {
			c := NewCache(1 << 20)
			for b.Loop() {
				c.Render(1, bc.src)
			}
		})
	}
}
