package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/pipeline"
	"github.com/idgraph/idgraph/report"
)

func (a *app) collectCmd() *cobra.Command {
	var source string
	o := &output{formats: []string{"json"}}
	cmd := &cobra.Command{
		Use:   "collect --source NAME [--out FILE]",
		Short: "Run one source and print what it read as JSON; nothing is stored",
		Long: `collect runs one configured source and prints its accounts (addresses, status,
assignment and role) and its completeness record as JSON. Nothing is stored. Use it to
check credentials and selectors. Exits 3 when the source was incomplete.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.resolve(cmd); err != nil {
				return err
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			// The heap's soft limit (run.memory_limit), as for a run, unless
			// GOMEMLIMIT already set one: collect reads a source as a run does.
			if n, _ := cfg.Run.Bytes(); n > 0 && a.getenv("GOMEMLIMIT") == "" {
				debug.SetMemoryLimit(n)
			}
			srcs, err := pipeline.Build(cfg, a.getenv, a.log)
			if err != nil {
				return err
			}
			var names []string
			for _, s := range srcs {
				if s.Info().Name == source {
					bars := a.newBars()
					res := pipeline.Collect(cmd.Context(), []collectors.Collector{s}, nil, true, a.log, bars.callback())[0]
					bars.done()
					if res.Result.Accounts == nil {
						res.Result.Accounts = []collectors.Account{}
					}
					write := func(w io.Writer) error {
						return writeCollected(w, res.Info, res.Result.Completeness, res.Result.Accounts)
					}
					if o.toStdout() {
						err = write(a.stdout)
					} else {
						err = writeFileStreamed(o.out, write)
					}
					if err != nil {
						return err
					}
					if !o.toStdout() {
						fmt.Fprintf(a.stdout, "wrote %s (%s)\n", o.out, report.Plural(len(res.Result.Accounts), "account", "accounts"))
					}
					if !res.Result.Completeness.Complete {
						return &exitError{exitIncomplete, fmt.Errorf("source %s was incomplete: %s", source, strings.Join(res.Result.Completeness.Errors, "; "))}
					}
					return nil
				}
				names = append(names, s.Info().Name)
			}
			return usageErr("--source %q is not configured in %s (configured: %s)", source, cfg.File, strings.Join(names, ", "))
		},
	}
	cmd.Flags().StringVarP(&source, "source", "s", "", "source name (okta, entra, stonly, or a csvfile name)")
	o.addFlags(cmd, false)
	cmd.MarkFlagRequired("source")
	return cmd
}

// writeCollected writes what one source read as one JSON object, the
// accounts encoded one at a time: the output of a million accounts is
// never held whole beside the accounts themselves. The bytes are those of
// an indented encoding of the whole object.
func writeCollected(w io.Writer, info collectors.Info, comp collectors.Completeness, accounts []collectors.Account) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	field := func(name string, v any, last bool) error {
		b, err := json.MarshalIndent(v, "  ", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(bw, "  %q: %s", name, b)
		if !last {
			bw.WriteString(",\n")
		}
		return nil
	}
	bw.WriteString("{\n")
	if err := field("source", info, false); err != nil {
		return err
	}
	if err := field("completeness", comp, false); err != nil {
		return err
	}
	if len(accounts) == 0 {
		bw.WriteString("  \"accounts\": []\n}\n")
		return bw.Flush()
	}
	bw.WriteString("  \"accounts\": [\n")
	for i := range accounts {
		b, err := json.MarshalIndent(&accounts[i], "    ", "  ")
		if err != nil {
			return err
		}
		bw.WriteString("    ")
		bw.Write(b)
		if i < len(accounts)-1 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
	}
	bw.WriteString("  ]\n}\n")
	return bw.Flush()
}

// writeFileStreamed writes what write writes to the file at path as
// report.WriteFile does (mode 0600, through a temporary file beside it, a
// sync and a rename, so that no reader sees half of it), but as it comes:
// the encoding of 100,000 accounts is 64 MB, and held in a buffer beside
// the accounts it was most of the command's peak memory.
func writeFileStreamed(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing to remove
	err = tmp.Chmod(0o600)
	if err == nil {
		err = write(tmp)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
