package store

import (
	"context"
	"fmt"
)

// Review campaigns (docs/RULES.md, "Review"): their rows and their entries
// in the evidence chain.

// campaignBody returns the canonical body of a campaign event or sign-off.
func campaignBody(_ context.Context, _ querier, kind string, ref int64) (string, error) {
	return "", fmt.Errorf("store: %s %d: campaigns are not recorded yet", kind, ref)
}
