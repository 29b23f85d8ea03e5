package httpx

import (
	"net/http"
	"strings"

	"github.com/quill-blog/quill/internal/blog"
)

// SearchRequest reads a search of posts from the query string: q, and
// skip, limit and a search's cursor, with the problems it found in those
// three. ok is false when q is absent or blank (only white space), as an
// empty skip or limit is absent: the request is then a page of posts
// (PageRequest). The query itself is read by the use case
// (app.SearchPosts), which reports all the problems.
func SearchRequest(r *http.Request) (req blog.SearchRequest, ok bool) {
	q := r.URL.Query()
	req.Query = q.Get("q")
	if strings.TrimSpace(req.Query) == "" {
		return blog.SearchRequest{}, false
	}
	var v blog.Validator
	req.Skip, req.Limit = readSkipLimit(q, &v)
	if s, ok := q["cursor"]; ok {
		_, c := v.ReadCursor(s[0], true)
		if c != nil && req.Skip != 0 {
			v.Add("value_error", "Use either skip or cursor, not both", "query", "cursor")
		} else {
			req.Cursor = c
		}
	}
	req.Problems = v.Problems
	return req, true
}
