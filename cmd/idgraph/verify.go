package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/store"
)

func (a *app) verifyCmd() *cobra.Command {
	var head, logFile string
	cmd := &cobra.Command{
		Use:   "verify [--head HEAD] [--log FILE]",
		Short: "Check the tamper-evident hash chains of every snapshot and every review decision",
		Long: `verify recomputes every snapshot's hash from its rows and checks the chain of
previous hashes, then does the same for the evidence chain: every review decision and
every second reviewer's confirmation. It names the first snapshot or entry that was
edited, deleted, inserted or backdated, and a decision written into the store around
idgraph.

A chain inside the store cannot prove that the store was not cut back or replaced as
a whole: --head HEAD checks against a head recorded elsewhere (every report and
export manifest prints it, as "chain head"), and --log FILE against the evidence log
file, one line per entry. A store with no snapshot is never verified.

It opens the store read-only, so it can check a copy an auditor may not write. Exit 0
when everything verifies, 1 when something does not (or the store is empty), 2 when
the store is missing or is not an idgraph store.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withReadStore(cmd.Context(), func(ctx context.Context, cfg *config.Config, st *store.Store) error {
				opt := store.VerifyOptions{Head: head}
				if logFile == "" {
					logFile = reviewingOf(cfg).LogFile
				}
				if logFile != "" {
					f, err := os.Open(logFile)
					if err != nil {
						return usageErr("--log %s: %v", logFile, err)
					}
					defer f.Close()
					opt.Log = io.Reader(f)
				}
				res, err := st.VerifyWith(ctx, opt)
				if err != nil {
					return err
				}
				switch {
				case res.BadID != 0:
					return fmt.Errorf("snapshot %d does not verify: %s (%s before it verified)", res.BadID, res.Problem,
						report.Plural(res.Checked, "snapshot", "snapshots"))
				case res.Checked == 0:
					return fmt.Errorf("%s is not verified: %s", cfg.Path(cfg.Store), res.Problem)
				case res.Problem != "":
					return fmt.Errorf("the evidence does not verify: %s (%s and %s before it verified)", res.Problem,
						report.Plural(res.Checked, "snapshot", "snapshots"), report.Plural(res.Entries, "evidence entry", "evidence entries"))
				}
				fmt.Fprintf(a.stdout, "%s verified: every hash and link of the chain matches; %s verified\n",
					report.Plural(res.Checked, "snapshot", "snapshots"), report.Plural(res.Entries, "evidence entry", "evidence entries"))
				if head != "" {
					fmt.Fprintf(a.stdout, "the head given is a state of this store: nothing recorded up to it was changed since\n")
				}
				fmt.Fprintf(a.stdout, "chain head: %s\n", res.Head)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&head, "head", "", "a chain head recorded elsewhere (a report, a manifest): the store must still hold that state unchanged")
	cmd.Flags().StringVar(&logFile, "log", "", "the evidence log file to check the store against")
	return cmd
}
