package ingest

import "errors"

// ListenSRT is not available yet.
func (s *Server) ListenSRT(addr string) (string, error) {
	return "", errors.New("srt ingest is not implemented yet")
}
