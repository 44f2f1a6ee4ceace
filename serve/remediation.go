package serve

import "net/http"

// remediationRoutes adds the "changes waiting" page and its controls.
func (s *Server) remediationRoutes(mux *http.ServeMux) {}

// RemediationOptions is what the "changes waiting" page needs.
type RemediationOptions struct{}
