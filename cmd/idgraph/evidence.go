package main

import "github.com/spf13/cobra"

// newEvidenceCmd is `idgraph evidence --campaign ID --out DIR`.
func newEvidenceCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "evidence", Short: "The auditor's evidence pack (not built yet)", Hidden: true}
}
