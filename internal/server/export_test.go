package server

// Hooks for the tests in package server_test.

// APIPatterns are the patterns of the API routes the server registered.
func (s *Server) APIPatterns() []string { return append([]string(nil), s.apiPatterns...) }
