package main

import (
	"fmt"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// version is the module version the binary was built as: a release tag
// (go install …@v1.2.0), a pseudo-version, or "(devel)".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, module, commit and build date",
		Long: `version prints the module version and path, the commit and its date, and the Go
release that built the binary. The commit comes from the build's VCS stamp (go build in a
git checkout) or, failing that, from a pseudo-version (go install …@commit); go run and
-buildvcs=false builds record neither, and version says so.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bi, _ := debug.ReadBuildInfo()
			fmt.Fprint(a.stdout, describeBuild(bi))
			return nil
		},
	}
}

// pseudoVersion matches the tail of a Go pseudo-version
// (https://go.dev/ref/mod#pseudo-versions): a UTC time, then the first 12
// hex digits of the commit.
var pseudoVersion = regexp.MustCompile(`(?:^|[.-])(\d{14})-([0-9a-f]{12})(?:\+dirty)?(?:\+incompatible)?$`)

// describeBuild says what bi records of the build, and what it does not.
func describeBuild(bi *debug.BuildInfo) string {
	v, module, goVersion := "(devel)", "github.com/idgraph/idgraph", "unknown"
	commit, date, dirty := "", "", false
	if bi != nil {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		if bi.Main.Path != "" {
			module = bi.Main.Path
		}
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				date = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if m := pseudoVersion.FindStringSubmatch(v); m != nil && commit == "" {
			commit = m[2]
			if t, err := time.Parse("20060102150405", m[1]); err == nil {
				date = t.UTC().Format(time.RFC3339)
			}
			dirty = dirty || strings.Contains(v, "+dirty")
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "idgraph %s\nmodule %s\n", v, module)
	switch {
	case commit == "":
		b.WriteString("commit unknown: this build did not record it (go run and -buildvcs=false builds omit it; " +
			"go build in a git checkout, or go run -buildvcs=true, records it)\n")
	case dirty:
		fmt.Fprintf(&b, "commit %s (modified)\n", commit)
	default:
		fmt.Fprintf(&b, "commit %s\n", commit)
	}
	if date != "" {
		fmt.Fprintf(&b, "built from a tree dated %s\n", date)
	}
	fmt.Fprintf(&b, "go %s\n", goVersion)
	return b.String()
}
