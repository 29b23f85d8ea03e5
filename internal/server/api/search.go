package api

import (
	"net/http"

	"github.com/quill-blog/quill/internal/blog"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// searchPosts answers a search of everyone's posts (authorID 0) or of one
// user's, which Posts and UserPosts pass on when the request has a q: a
// page of posts in the same shape as theirs, best first, with
// total_capped.
func (a *API) searchPosts(w http.ResponseWriter, r *http.Request, authorID int64, req blog.SearchRequest) error {
	page, err := a.app.SearchPosts(r.Context(), authorID, req)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, searchPageOf(page))
	return nil
}
