package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph"
)

func (a *app) initCmd() *cobra.Command {
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "init [--out idgraph.yaml] [--force]",
		Short: "Write a commented example configuration to start from",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			f, err := os.OpenFile(out, flags, 0o600)
			if errors.Is(err, fs.ErrExist) {
				return usageErr("%s exists; pass --force to overwrite it", out)
			}
			if err != nil {
				return err
			}
			if _, err := f.Write(idgraph.ExampleConfig); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %s: set the environment variables it names, then run `idgraph doctor -c %s`\n", out, out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "idgraph.yaml", "file to write")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	return cmd
}
