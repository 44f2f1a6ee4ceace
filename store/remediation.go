package store

import (
	"context"
	"fmt"
)

// Remediation records (docs/RULES.md, "Remediation"): planned and carried
// out actions and their entries in the evidence chain.

// actionBody returns the canonical body of a remediation action record.
func actionBody(_ context.Context, _ querier, ref int64) (string, error) {
	return "", fmt.Errorf("store: action %d: remediation is not recorded yet", ref)
}
