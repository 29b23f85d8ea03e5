package server

import (
	"context"
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
	sessions, err := s.liveSessions(r.Context(), c)
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
			Current:    sess.ID == c.session.ID,
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// liveSessions are the caller's live sessions, newest first; the API and
// the account page share it.
func (s *Server) liveSessions(ctx context.Context, c caller) ([]blog.Session, error) {
	sessions, err := s.store.Sessions(ctx, c.user.ID, s.now())
	if err != nil {
		return nil, err
	}
	for i := range sessions {
		// A use recorded but not yet written is the fresher truth.
		if t, ok := s.lastUsed.at(sessions[i].ID); ok && t.After(sessions[i].LastUsedAt) {
			sessions[i].LastUsedAt = t
		}
	}
	return sessions, nil
}

// handleDeleteSession ends one of the caller's sessions (the current one
// too: that is a logout): DELETE /api/users/me/sessions/{session_id}.
func (s *Server) handleDeleteSession(w http.ResponseWriter, r *http.Request, c caller) error {
	if err := s.endSession(r.Context(), c, r.PathValue("session_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// endSession ends the caller's session id. Someone else's session is 404,
// as is a missing one: ids are not confirmed to exist. The API and the
// account page share it.
func (s *Server) endSession(ctx context.Context, c caller, id string) error {
	if id == "" || len(id) > 64 {
		return blog.ErrSessionNotFound
	}
	return s.store.DeleteSession(ctx, c.user.ID, id)
}

// touch records that the session was used now, unless the stored time is
// recent enough (see touchAfter). Run writes the records in batches.
func (s *Server) touch(sess *blog.Session) {
	if now := s.now(); now.Sub(sess.LastUsedAt) >= touchAfter {
		s.lastUsed.record(sess.ID, now)
	}
}
