package main

import "github.com/spf13/cobra"

// newRemediateCmd is `idgraph remediate plan|apply`.
func newRemediateCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "remediate", Short: "Carry out approved revocations (not built yet)", Hidden: true}
}
