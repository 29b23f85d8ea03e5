package server

import (
	"net/http"

	"github.com/quill-blog/quill/internal/blog"
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

// handleSessions lists the caller's live sessions, newest first, marking
// the one the request came through: GET /api/users/me/sessions.
func (s *Server) handleSessions(w http.ResponseWriter, r *http.Request, c caller) error {
	sessions, err := s.store.Sessions(r.Context(), c.user.ID, s.now())
	if err != nil {
		return err
	}
	out := make([]sessionResponse, len(sessions))
	for i, sess := range sessions {
		// A use recorded but not yet written is the fresher truth.
		if t, ok := s.lastUsed.at(sess.ID); ok && t.After(sess.LastUsedAt) {
			sess.LastUsedAt = t
		}
		out[i] = sessionResponse{
			ID:         sess.ID,
			CreatedAt:  timestamp(sess.CreatedAt),
			LastUsedAt: timestamp(sess.LastUsedAt),
			ExpiresAt:  timestamp(sess.ExpiresAt),
			UserAgent:  sess.UserAgent,
			IP:         sess.IP,
			Current:    sess.ID == c.session.ID,
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// handleDeleteSession ends one of the caller's sessions (the current one
// too: that is a logout): DELETE /api/users/me/sessions/{session_id}.
// Someone else's session is 404, as is a missing one: ids are not
// confirmed to exist.
func (s *Server) handleDeleteSession(w http.ResponseWriter, r *http.Request, c caller) error {
	id := r.PathValue("session_id")
	if id == "" || len(id) > 64 {
		return blog.ErrSessionNotFound
	}
	if err := s.store.DeleteSession(r.Context(), c.user.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// touch records that the session was used now, unless the stored time is
// recent enough (see touchAfter). Run writes the records in batches.
func (s *Server) touch(sess *blog.Session) {
	if now := s.now(); now.Sub(sess.LastUsedAt) >= touchAfter {
		s.lastUsed.record(sess.ID, now)
	}
}
