package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/report"
)

// output is the output convention that every command printing data
// follows (docs/RULES.md): --format names the format, --out FILE the
// destination, "-" standard output. A file's extension that names another
// format than --format is an error; without --format, the extension
// chooses it.
type output struct {
	formats []string // those this command writes; the first is the default
	format  string
	out     string
	json    bool // the deprecated --json of older releases
	// required: --out has no default (the command writes files, and
	// standard output must be asked for with "-").
	required bool
}

// extFormats maps the extensions that name a format. Other extensions
// (.txt, none) say nothing.
var extFormats = map[string]string{
	".json": "json", ".csv": "csv", ".html": "html", ".htm": "html", ".md": "md", ".markdown": "md",
}

// formatNames describes formats in messages.
var formatNames = map[string]string{"json": "JSON", "csv": "CSV", "html": "HTML", "md": "Markdown", "table": "a table"}

// addFlags registers --format and --out (and --json when alias is set).
func (o *output) addFlags(cmd *cobra.Command, alias bool) {
	f := cmd.Flags()
	f.StringVarP(&o.format, "format", "f", o.formats[0], "output format: "+orList(o.formats)+"; when not given, --out's extension chooses")
	def := "-"
	help := `file to write ("-": standard output)`
	if o.required {
		def = ""
	}
	f.StringVarP(&o.out, "out", "o", def, help)
	if alias {
		// Not cobra's MarkDeprecated: its notice goes to standard output,
		// into the JSON that scripts parse.
		f.BoolVar(&o.json, "json", false, "print JSON (deprecated: use --format json)")
	}
}

// resolve checks the flags and settles the format. Every problem is a
// usage error (exit 2), found before anything is read or written.
func (o *output) resolve(cmd *cobra.Command) error {
	changed := cmd.Flags().Changed("format")
	if o.json {
		if changed && o.format != "json" {
			return usageErr("--json and --format %s disagree; use --format json", o.format)
		}
		o.format, changed = "json", true
		fmt.Fprintln(cmd.ErrOrStderr(), "note: --json is deprecated; use --format json")
	}
	if changed && !slices.Contains(o.formats, o.format) {
		return usageErr("--format must be %s, not %q", orList(o.formats), o.format)
	}
	if o.out == "" {
		return usageErr(`--out is required (a file, or "-" for standard output)`)
	}
	if o.out == "-" {
		return nil
	}
	if ef, ok := extFormats[strings.ToLower(filepath.Ext(o.out))]; ok {
		switch {
		case !changed && slices.Contains(o.formats, ef):
			o.format = ef
		case !changed:
			return usageErr("--out %s names a %s file, which this command does not write (formats: %s)",
				o.out, formatNames[ef], strings.Join(o.formats, ", "))
		case ef != o.format:
			return usageErr("--out %s names a %s file but --format is %s: change one of them", o.out, formatNames[ef], o.format)
		}
	}
	return checkOutDir(o.out)
}

// checkOutDir names a missing output folder instead of letting the write
// fail on a temporary file's name.
func checkOutDir(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usageErr("cannot write %s: the folder %s does not exist; create it first", path, dir)
	case err != nil:
		return usageErr("cannot write %s: %v", path, err)
	case !fi.IsDir():
		return usageErr("cannot write %s: %s is not a folder", path, dir)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return usageErr("cannot write %s: it is a folder; name a file", path)
	}
	return nil
}

// toStdout reports whether the output goes to standard output.
func (o *output) toStdout() bool { return o.out == "-" }

// write sends what f writes to standard output, or to the file in one
// piece (mode 0600, through a temporary file and a rename, so no reader
// sees half of it). tty tells f whether it writes to a terminal, where
// long cells are cut to keep rows readable.
func (a *app) write(o *output, f func(w io.Writer, tty bool) error) error {
	if o.toStdout() {
		return f(a.stdout, terminal(a.stdout))
	}
	var b bytes.Buffer
	if err := f(&b, false); err != nil {
		return err
	}
	if err := report.WriteFile(o.out, b.Bytes()); err != nil {
		return fmt.Errorf("writing %s: %w", o.out, err)
	}
	return nil
}

// orList joins choices as "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// cell makes source text safe for a table: sanitised always, and cut to
// max runes only on a terminal, so that a file or a pipe gets it whole.
func cell(s string, max int, tty bool) string {
	if !tty {
		max = -1
	}
	return report.Terminal(s, max)
}

// encodeJSON writes v as indented JSON, as every command's --format json
// does.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
