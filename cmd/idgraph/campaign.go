package main

import "github.com/spf13/cobra"

// newCampaignCmd is `idgraph campaign start|list|show|signoff`.
func newCampaignCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "campaign", Short: "Review campaigns (not built yet)", Hidden: true}
}
