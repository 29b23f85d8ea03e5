package api

import (
	"net/http"

	"github.com/quill-blog/quill/internal/app"
	"github.com/quill-blog/quill/internal/server/httpx"
)

// sessionResponse is one entry of GET /api/users/me/sessions.
type sessionResponse struct {
	ID         string `json:"id"`
	CreatedAt  string `json:"created_at"`
	LastUsedAt string `json:"last_used_at"`
	ExpiresAt  string `json:"expires_at"`
	UserAgent  string `json:"user_agent"`
	IP         string `json:"ip"`
	Current    bool   `json:"current"`
}

// Sessions lists the caller's live sessions, newest first, marking the
// one the request came through: GET /api/users/me/sessions.
func (a *API) Sessions(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	sessions, err := a.app.Sessions(r.Context(), c)
	if err != nil {
		return err
	}
	out := make([]sessionResponse, len(sessions))
	for i, sess := range sessions {
		out[i] = sessionResponse{
			ID:         sess.ID,
			CreatedAt:  timestamp(sess.CreatedAt),
			LastUsedAt: timestamp(sess.LastUsedAt),
			ExpiresAt:  timestamp(sess.ExpiresAt),
			UserAgent:  sess.UserAgent,
			IP:         sess.IP,
			Current:    sess.ID == c.Session.ID,
		}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// DeleteSession ends one of the caller's sessions (the current one too:
// that is a logout): DELETE /api/users/me/sessions/{session_id}.
func (a *API) DeleteSession(w http.ResponseWriter, r *http.Request, c *app.Caller) error {
	if err := a.app.EndSession(r.Context(), c, r.PathValue("session_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
