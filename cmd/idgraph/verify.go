package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/store"
)

func (a *app) verifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Check the tamper-evident hash chain of every snapshot",
		Long: `verify recomputes every snapshot's hash from its rows and checks the chain of
previous hashes. It opens the store read-only, so it can check a copy an auditor
may not write. Exit 0 when every snapshot verifies, 1 when one does not, 2 when the
store is missing or is not an idgraph store.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withReadStore(cmd.Context(), func(ctx context.Context, cfg *config.Config, st *store.Store) error {
				res, err := st.Verify(ctx)
				if err != nil {
					return err
				}
				if res.BadID != 0 {
					return fmt.Errorf("snapshot %d does not verify: %s (%s before it verified)", res.BadID, res.Problem,
						plural(res.Checked, "snapshot", "snapshots"))
				}
				if res.Checked == 0 {
					fmt.Fprintf(a.stdout, "%s holds no snapshot yet: nothing to verify\n", cfg.Path(cfg.Store))
					return nil
				}
				fmt.Fprintf(a.stdout, "%s verified: every hash and link of the chain matches\n", plural(res.Checked, "snapshot", "snapshots"))
				return nil
			})
		},
	}
}
