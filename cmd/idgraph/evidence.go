package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/store"
)

// newEvidenceCmd is `idgraph evidence --campaign ID --out DIR`.
func newEvidenceCmd(a *app) *cobra.Command {
	var campaign int64
	var out, asOf string
	cmd := &cobra.Command{
		Use:   "evidence --campaign ID --out DIR [--as-of TIME]",
		Short: "Write a campaign's evidence pack for the auditor into a new folder",
		Long: `evidence writes the auditor's pack of a campaign into DIR, which must not exist or be
empty:

  population.csv   every account the campaign froze: source ids, status, role, the
                   linked person and why, the item its access was decided under
  items.csv        every item, its reviewer and why, its state and latest decision
  findings.csv     the campaign snapshot's findings of its applications, with review
  accounts.csv     columns as of the pack's moment (the same as ` + "`idgraph export`" + `)
  decisions.csv    every decision about the items, with second reviewers, oldest first
  remediation.csv  the remediation actions about them (the header only while none)
  campaign.json    scope, routing, due date, counts (per reviewer), the sources'
                   completeness and the population reconciled to each, the sign-off
                   with each revoke's remediation state, time to confirmed removal
  summary.html     all of campaign.json on one page, for the auditor to read
  manifest.json    the SHA-256 of every file, the snapshot and its hash, the chain head
                   and decisions_as_of

The pack shows the campaign as of its sign-off (an open campaign: now), or --as-of
TIME. The same campaign as of the same moment gives the same bytes, always: later
decisions and snapshots change nothing. Record the manifest's chain_head elsewhere;
` + "`idgraph verify --head`" + ` checks it later.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if campaign < 1 {
				return usageErr("--campaign ID is required (see `idgraph campaign list`)")
			}
			if out == "" || out == "-" {
				return usageErr("--out DIR is required: the pack is a folder of files")
			}
			at, err := parseWhen("--as-of", asOf)
			if err != nil {
				return err
			}
			return a.withReadStore(cmd.Context(), func(ctx context.Context, cfg *config.Config, st *store.Store) error {
				m, err := report.WritePack(ctx, st, campaign, out, report.PackOptions{AsOf: at, Now: time.Now(), Version: version()})
				switch {
				case errors.Is(err, report.ErrNotEmpty), errors.Is(err, store.ErrNoCampaign):
					return &exitError{exitUsage, err}
				case err != nil:
					return err
				}
				state := "open"
				if m.SignedOff {
					state = "signed off"
				}
				fmt.Fprintf(a.stdout, "wrote the evidence pack of campaign %d (%s) as of %s into %s:\n", m.Campaign, state, m.DecisionsAsOf, out)
				for _, f := range m.Files {
					fmt.Fprintf(a.stdout, "  %-16s %8d bytes  sha256 %s\n", f.Name, f.Bytes, f.SHA256)
				}
				fmt.Fprintf(a.stdout, "  %s\nchain head: %s\n", filepath.Join(out, report.PackManifestFile), m.ChainHead)
				return nil
			})
		},
	}
	cmd.Flags().Int64Var(&campaign, "campaign", 0, "the campaign (its ID, as `idgraph campaign list` shows it)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "the folder to write, new or empty")
	cmd.Flags().StringVar(&asOf, "as-of", "", "the moment to show (YYYY-MM-DD or RFC 3339); default: the sign-off, or now")
	return cmd
}
