package serve

import "net/http"

// campaignRoutes adds the campaign pages: each reviewer's queue.
func (s *Server) campaignRoutes(mux *http.ServeMux) {}

// CampaignOptions is what the campaign pages need.
type CampaignOptions struct{}
