// Package markdown turns a post's Markdown into HTML that is safe to put
// in a page, a feed or an API response, and into a plain-text excerpt.
//
// The dialect is CommonMark with GitHub's tables, strikethrough,
// autolinks and task lists (github.com/yuin/goldmark). What a post may
// not do, whatever its source (docs/security.md):
//
//   - Raw HTML, block or inline, is shown as the text that was typed,
//     never passed through.
//   - A link is live only if its URL is relative or http, https or mailto;
//     any other (javascript:, vbscript:, data:, in any case or spelling)
//     leaves just the link's text. Every live link has
//     rel="nofollow ugc noopener".
//   - An image is an <img> only when it is on this site (a path starting
//     with one "/"); any other is a link to the image, with the alt text
//     as its text, so readers' browsers load nothing from elsewhere.
//   - Headings start at h2, below the page's h1 (# is h2, capped at h6),
//     and carry no id.
//   - No style attribute (the site's CSP forbids inline style): table
//     alignment uses the align attribute.
package markdown

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// ExcerptLength is the most characters an excerpt has, "…" included.
const ExcerptLength = 300

// Rendered is a post's Markdown rendered.
type Rendered struct {
	// HTML is the whole post as safe HTML.
	HTML string
	// Excerpt is plain text: the post's first paragraph (or, without one,
	// its text), cut at a word boundary to at most ExcerptLength
	// characters with "…".
	Excerpt string
	// Cut reports whether Excerpt leaves out some of the post's text.
	Cut bool
}

// md is the one configured goldmark: safe to share between goroutines.
var md = goldmark.New(
	goldmark.WithExtensions(
		extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
		extension.Strikethrough,
		extension.Linkify,
		extension.TaskList,
	),
	goldmark.WithParserOptions(
		parser.WithASTTransformers(util.Prioritized(headingShift{}, 100)),
	),
	goldmark.WithRendererOptions(
		// The default renderer omits raw HTML and blanks dangerous URLs;
		// safeRenderer, registered last, takes over every node that
		// carries HTML or a URL.
		renderer.WithNodeRenderers(util.Prioritized(safeRenderer{}, 100)),
	),
)

// Render renders src. It never fails: any text is some Markdown.
func Render(src string) Rendered {
	source := []byte(src)
	doc := md.Parser().Parse(text.NewReader(source))
	var buf bytes.Buffer
	buf.Grow(len(src) + len(src)/4)
	// Writing to a bytes.Buffer cannot fail, and the node renderers
	// return no error of their own.
	_ = md.Renderer().Render(&buf, source, doc)
	excerpt, cut := excerptOf(doc, source)
	return Rendered{HTML: buf.String(), Excerpt: excerpt, Cut: cut}
}

// headingShift moves every heading one level down, below the page's h1.
type headingShift struct{}

func (headingShift) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if h, ok := n.(*ast.Heading); ok && entering {
			h.Level = min(h.Level+1, 6)
		}
		return ast.WalkContinue, nil
	})
}

// safeRenderer renders the nodes that could carry markup or a URL of the
// author's choosing.
type safeRenderer struct{}

func (safeRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindLink, renderLink)
	reg.Register(ast.KindAutoLink, renderAutoLink)
	reg.Register(ast.KindImage, renderImage)
	reg.Register(ast.KindRawHTML, renderRawHTML)
	reg.Register(ast.KindHTMLBlock, renderHTMLBlock)
	reg.Register(ast.KindHeading, renderHeading)
}

// rel is every live link's rel: posts are user content, search engines
// should not count their links, and a link opened elsewhere gets no
// handle on the page.
const rel = "nofollow ugc noopener"

func renderLink(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Link)
	href, ok := linkURL(n.Destination)
	if !ok {
		return ast.WalkContinue, nil // the text alone
	}
	if !entering {
		_, _ = w.WriteString("</a>")
		return ast.WalkContinue, nil
	}
	openLink(w, href, n.Title)
	return ast.WalkContinue, nil
}

func renderAutoLink(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.AutoLink)
	url, label := n.URL(source), n.Label(source)
	if n.AutoLinkType == ast.AutoLinkEmail && !hasPrefixFold(url, "mailto:") {
		url = append([]byte("mailto:"), url...)
	}
	href, ok := linkURL(url)
	if ok {
		openLink(w, href, nil)
	}
	_, _ = w.Write(util.EscapeHTML(label))
	if ok {
		_, _ = w.WriteString("</a>")
	}
	return ast.WalkContinue, nil
}

// openLink writes <a> to href (checked by linkURL) with title, if any.
func openLink(w util.BufWriter, href string, title []byte) {
	_, _ = w.WriteString(`<a href="`)
	_, _ = w.Write(util.EscapeHTML([]byte(href)))
	_, _ = w.WriteString(`" rel="` + rel + `"`)
	if title != nil {
		_, _ = w.WriteString(` title="`)
		writeText(w, title)
		_ = w.WriteByte('"')
	}
	_ = w.WriteByte('>')
}

func renderImage(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.Image)
	alt := plainText(n, source)
	if src, ok := localImageURL(n.Destination); ok {
		_, _ = w.WriteString(`<img src="`)
		_, _ = w.Write(util.EscapeHTML([]byte(src)))
		_, _ = w.WriteString(`" alt="`)
		_, _ = w.Write(util.EscapeHTML([]byte(alt)))
		_ = w.WriteByte('"')
		if n.Title != nil {
			_, _ = w.WriteString(` title="`)
			writeText(w, n.Title)
			_ = w.WriteByte('"')
		}
		_, _ = w.WriteString(` loading="lazy">`)
		return ast.WalkSkipChildren, nil
	}
	// Another site's image is not loaded: it becomes a link to it, unless
	// it is inside a link already (links do not nest), where its alt text
	// stands alone.
	href, ok := linkURL(n.Destination)
	if ok && !insideLink(n) {
		if alt == "" {
			alt = href
		}
		_, _ = w.WriteString(`<a class="image-link" href="`)
		_, _ = w.Write(util.EscapeHTML([]byte(href)))
		_, _ = w.WriteString(`" rel="` + rel + `"`)
		if n.Title != nil {
			_, _ = w.WriteString(` title="`)
			writeText(w, n.Title)
			_ = w.WriteByte('"')
		}
		_ = w.WriteByte('>')
		_, _ = w.Write(util.EscapeHTML([]byte(alt)))
		_, _ = w.WriteString("</a>")
		return ast.WalkSkipChildren, nil
	}
	_, _ = w.Write(util.EscapeHTML([]byte(alt)))
	return ast.WalkSkipChildren, nil
}

func insideLink(n ast.Node) bool {
	for p := n.Parent(); p != nil; p = p.Parent() {
		if k := p.Kind(); k == ast.KindLink || k == ast.KindAutoLink {
			return true
		}
	}
	return false
}

// renderRawHTML shows inline HTML as the text it is.
func renderRawHTML(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		n := node.(*ast.RawHTML)
		for i := range n.Segments.Len() {
			seg := n.Segments.At(i)
			writeRaw(w, seg.Value(source))
		}
	}
	return ast.WalkSkipChildren, nil
}

// renderHTMLBlock shows a block of HTML as the text it is, preformatted
// as it was typed.
func renderHTMLBlock(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.HTMLBlock)
	_, _ = w.WriteString(`<pre class="html"><code>`)
	for i := range n.Lines().Len() {
		line := n.Lines().At(i)
		writeRaw(w, line.Value(source))
	}
	if n.HasClosure() {
		writeRaw(w, n.ClosureLine.Value(source))
	}
	_, _ = w.WriteString("</code></pre>\n")
	return ast.WalkSkipChildren, nil
}

// renderHeading is goldmark's, without attributes (no ids that could
// clash with the page's own).
func renderHeading(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Heading)
	if entering {
		_, _ = w.WriteString("<h")
		_ = w.WriteByte("0123456"[n.Level])
		_ = w.WriteByte('>')
	} else {
		_, _ = w.WriteString("</h")
		_ = w.WriteByte("0123456"[n.Level])
		_, _ = w.WriteString(">\n")
	}
	return ast.WalkContinue, nil
}

// writeRaw writes text typed by the author as escaped text: no entity is
// resolved, so "&lt;" shows as typed.
func writeRaw(w util.BufWriter, b []byte) {
	_, _ = w.Write(util.EscapeHTML(bytes.ReplaceAll(b, []byte{0}, []byte("\uFFFD"))))
}

// writeText writes Markdown text (a title): backslash escapes and entity
// references resolved, then escaped.
func writeText(w util.BufWriter, b []byte) {
	b = util.UnescapePunctuations(b)
	b = util.ResolveNumericReferences(b)
	b = util.ResolveEntityNames(b)
	writeRaw(w, b)
}

// allowedSchemes are the schemes a live link may have. A URL without a
// scheme is relative, on this site.
var allowedSchemes = []string{"http", "https", "mailto"}

// linkURL returns the href a link to dest would have, and whether that
// link may be live. dest is resolved as CommonMark says (backslash
// escapes, entity references) and percent-encoded; the result is checked
// as a browser would read it, after it strips tabs, newlines and leading
// control characters and spaces.
func linkURL(dest []byte) (string, bool) {
	u := browserURL(string(util.URLEscape(dest, true)))
	if u == "" {
		return "", false
	}
	if scheme, ok := schemeOf(u); ok {
		for _, s := range allowedSchemes {
			if strings.EqualFold(scheme, s) {
				return u, true
			}
		}
		return "", false
	}
	return u, true
}

// localImageURL returns the src of an image at dest, and whether dest is
// on this site: a path starting with exactly one "/" (or "\", which
// browsers read as "/"), so "//host/x.png" is not.
func localImageURL(dest []byte) (string, bool) {
	u := browserURL(string(util.URLEscape(dest, true)))
	if len(u) < 2 || u[0] != '/' || u[1] == '/' || u[1] == '\\' {
		return "", false
	}
	if _, ok := schemeOf(u); ok {
		return "", false
	}
	return u, true
}

// browserURL is u as a browser's URL parser sees it: without leading and
// trailing C0 controls and spaces, and without any tab or newline.
func browserURL(u string) string {
	u = strings.TrimFunc(u, func(r rune) bool { return r <= ' ' })
	if strings.ContainsAny(u, "\t\n\r") {
		u = strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, u)
	}
	return u
}

// schemeOf returns the part of u before the first ":", if that colon
// comes before any "/", "?" or "#". ok is true for anything that could
// be read as a scheme, even if it is not a valid one: such a URL is
// never taken as relative.
func schemeOf(u string) (scheme string, ok bool) {
	i := strings.IndexAny(u, ":/?#\\")
	if i < 0 || u[i] != ':' {
		return "", false
	}
	return u[:i], true
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}

// plainText is the text of n's inline children, as alt text reads:
// emphasis and links flattened, images by their own alt text.
func plainText(n ast.Node, source []byte) string {
	var b strings.Builder
	appendText(&b, n, source)
	return b.String()
}

func appendText(b *strings.Builder, n ast.Node, source []byte) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			b.Write(resolved(c.Segment.Value(source), !c.IsRaw()))
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(resolved(c.Value, !c.IsRaw()))
		case *ast.CodeSpan:
			appendCode(b, c, source)
		case *ast.AutoLink:
			b.Write(c.Label(source))
		case *ast.RawHTML:
			for i := range c.Segments.Len() {
				seg := c.Segments.At(i)
				b.Write(seg.Value(source))
			}
		default:
			appendText(b, c, source)
		}
	}
}

func appendCode(b *strings.Builder, c *ast.CodeSpan, source []byte) {
	for t := c.FirstChild(); t != nil; t = t.NextSibling() {
		if t, ok := t.(*ast.Text); ok {
			b.Write(bytes.TrimSuffix(t.Segment.Value(source), []byte("\n")))
		}
	}
}

// resolved is Markdown text with its backslash escapes and entity
// references resolved, unless raw.
func resolved(v []byte, resolve bool) []byte {
	if !resolve {
		return v
	}
	v = util.UnescapePunctuations(v)
	v = util.ResolveNumericReferences(v)
	return util.ResolveEntityNames(v)
}

// excerptOf returns the excerpt of doc, and whether it leaves out some
// of the post: more text, or any other block.
func excerptOf(doc ast.Node, source []byte) (string, bool) {
	var first ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering && n.Kind() == ast.KindParagraph && strings.TrimSpace(plainText(n, source)) != "" {
			first = n
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	if first == nil {
		excerpt, cut := shorten(collapse(blockText(doc, source)), ExcerptLength)
		return excerpt, cut || doc.ChildCount() > 1
	}
	excerpt, cut := shorten(collapse(plainText(first, source)), ExcerptLength)
	return excerpt, cut || first.Parent() != doc || doc.ChildCount() > 1
}

// Text is the plain text of src read as Markdown, as a reader sees it:
// every block's text, code blocks' lines included, with each run of white
// space made one space. A search result's excerpt is cut from it.
func Text(src string) string {
	source := []byte(src)
	doc := md.Parser().Parse(text.NewReader(source))
	return collapse(allText(doc, source, true))
}

// blockText is the text of every block under n, blocks separated by a
// space; code blocks and HTML blocks are left out.
func blockText(n ast.Node, source []byte) string {
	return allText(n, source, false)
}

// allText is the text of every block under n, blocks separated by a
// space; HTML blocks are left out, and code blocks unless code.
func allText(n ast.Node, source []byte, code bool) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c.Kind() {
		case ast.KindCodeBlock, ast.KindFencedCodeBlock:
			if code {
				lines := c.Lines()
				for i := range lines.Len() {
					b.WriteByte(' ')
					seg := lines.At(i)
					b.Write(seg.Value(source))
				}
			}
			return ast.WalkSkipChildren, nil
		case ast.KindHTMLBlock:
			return ast.WalkSkipChildren, nil
		}
		if c.Type() == ast.TypeBlock && c.FirstChild() != nil && c.FirstChild().Type() == ast.TypeInline {
			b.WriteByte(' ')
			appendText(&b, c, source)
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// collapse trims s and makes each run of white space one space.
func collapse(s string) string {
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// shorten cuts s to at most n characters, "…" included, at a word
// boundary when there is one in the second half, and reports whether it
// cut.
func shorten(s string, n int) (string, bool) {
	if utf8.RuneCountInString(s) <= n {
		return s, false
	}
	// The byte offset of the n-1th character: room for "…".
	end, count := 0, 0
	for i := range s {
		if count == n-1 {
			end = i
			break
		}
		count++
	}
	cut := s[:end]
	if s[end] != ' ' { // a word is cut: end before it
		if sp := strings.LastIndexByte(cut, ' '); sp >= len(cut)/2 {
			cut = cut[:sp]
		}
	}
	cut = strings.TrimRightFunc(cut, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) && r != ')' && r != '"' })
	return cut + "…", true
}
