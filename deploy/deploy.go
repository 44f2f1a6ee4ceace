// Package deploy holds the deployment files (a systemd service and timer,
// a Kubernetes CronJob) and what `idgraph init --system` derives from the
// service, so that the unit and the configuration written for it agree;
// its tests keep both valid.
package deploy

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// Service is systemd/idgraph.service.
//
//go:embed systemd/idgraph.service
var Service []byte

// Unit is a systemd unit file as section -> key -> values (a key may
// repeat), comments and blank lines left out.
type Unit map[string]map[string][]string

// ParseUnit reads a unit file. It knows the syntax the files here use:
// [Section] headers, key=value lines, # and ; comments.
func ParseUnit(b []byte) (Unit, error) {
	out := Unit{}
	sec := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";"):
		case strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]"):
			sec = l[1 : len(l)-1]
			out[sec] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(l, "=")
			if !ok || sec == "" {
				return nil, fmt.Errorf("line %d: not a key=value line in a section: %q", n, l)
			}
			out[sec][k] = append(out[sec][k], v)
		}
	}
	return out, sc.Err()
}

// Last is the value of a key as systemd reads it: the last assignment.
func (u Unit) Last(section, key string) string {
	vs := u[section][key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// StateDirs are the folders StateDirectory= makes (under /var/lib, owned
// by User=); systemd keeps them writable under ProtectSystem=strict.
func (u Unit) StateDirs() []string {
	var out []string
	for _, v := range u["Service"]["StateDirectory"] {
		for _, d := range strings.Fields(v) {
			d, _, _ = strings.Cut(d, ":") // a "source:destination" symlink form
			out = append(out, path.Join("/var/lib", d))
		}
	}
	return out
}

// ConfigFile is the --config (or -c) argument of ExecStart.
func (u Unit) ConfigFile() string {
	args := strings.Fields(u.Last("Service", "ExecStart"))
	for i, a := range args {
		switch {
		case (a == "--config" || a == "-c") && i+1 < len(args):
			return args[i+1]
		case strings.HasPrefix(a, "--config="):
			return strings.TrimPrefix(a, "--config=")
		}
	}
	return ""
}

// SystemInstall is where the service expects things: the configuration
// it reads and the one folder it may write.
type SystemInstall struct {
	Config   string // /etc/idgraph/idgraph.yaml
	StateDir string // /var/lib/idgraph
}

// System reads the install layout from the service.
func System() (SystemInstall, error) {
	u, err := ParseUnit(Service)
	if err != nil {
		return SystemInstall{}, fmt.Errorf("deploy/systemd/idgraph.service: %w", err)
	}
	dirs := u.StateDirs()
	if len(dirs) == 0 || u.ConfigFile() == "" {
		return SystemInstall{}, fmt.Errorf("deploy/systemd/idgraph.service names no StateDirectory= or no --config in ExecStart")
	}
	return SystemInstall{Config: u.ConfigFile(), StateDir: dirs[0]}, nil
}

// writtenPaths are the keys of the files and folders a run writes, which
// must be in the state folder when the configuration's folder is read-only.
var writtenPaths = [][]string{{"store"}, {"report", "dir"}, {"stonly", "debug_dir"}}

// SystemConfig rewrites a configuration (the commented example) for a
// system install: every path a run writes (the store and its lock and WAL
// beside it, the reports, Stonly's page captures) becomes absolute in
// stateDir, because the unit's ProtectSystem=strict makes the folder of the
// configuration read-only while relative paths resolve against that folder.
// Only those values change: comments and every other line stay as they
// are. A key of writtenPaths that the example lacks, except the store, is
// left out; a value already absolute is kept.
func SystemConfig(example []byte, stateDir string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(example, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the configuration is not a YAML mapping")
	}
	lines := strings.Split(string(example), "\n")
	for _, keys := range writtenPaths {
		v := lookup(doc.Content[0], keys)
		if v == nil {
			if keys[0] == "store" {
				return nil, fmt.Errorf("the configuration has no store key")
			}
			continue
		}
		if v.Kind != yaml.ScalarNode || v.Style != 0 || v.Value == "" || path.IsAbs(v.Value) {
			continue // quoted, empty or already absolute: left as written
		}
		l, c := v.Line-1, v.Column-1
		if l < 0 || l >= len(lines) || c < 0 || c > len(lines[l]) || !strings.HasPrefix(lines[l][c:], v.Value) {
			return nil, fmt.Errorf("line %d: %s is not where the parser says", v.Line, strings.Join(keys, "."))
		}
		line := lines[l]
		abs := path.Join(stateDir, v.Value)
		rest := line[c+len(v.Value):]
		// Keep a trailing comment in its column when the spaces allow.
		if trimmed := strings.TrimLeft(rest, " "); strings.HasPrefix(trimmed, "#") {
			pad := len(rest) - len(trimmed) - (len(abs) - len(v.Value))
			rest = strings.Repeat(" ", max(pad, 1)) + trimmed
		}
		lines[l] = line[:c] + abs + rest
	}
	head := fmt.Sprintf("# Written by `idgraph init --system` for deploy/systemd/idgraph.service: the unit's\n"+
		"# ProtectSystem=strict keeps this file's folder read-only, so what a run writes (the\n"+
		"# store, the reports, page captures) is in %s, the unit's StateDirectory.\n", stateDir)
	return []byte(head + strings.Join(lines, "\n")), nil
}

func lookup(n *yaml.Node, keys []string) *yaml.Node {
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}
