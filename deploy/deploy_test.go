package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/idgraph/idgraph/collectors"
	_ "github.com/idgraph/idgraph/collectors/all"
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/deploy"
	"github.com/idgraph/idgraph/pipeline"
)

// ini parses a systemd unit into section -> key -> values.
func ini(t *testing.T, path string) deploy.Unit {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	u, err := deploy.ParseUnit(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return u
}

func TestSystemdUnits(t *testing.T) {
	svc := ini(t, "systemd/idgraph.service")
	tmr := ini(t, "systemd/idgraph.timer")
	if exec := svc["Service"]["ExecStart"]; len(exec) != 1 || !strings.Contains(exec[0], " run --config ") {
		t.Errorf("ExecStart %v", exec)
	}
	if svc["Service"]["SuccessExitStatus"][0] != "3" || svc["Service"]["Type"][0] != "oneshot" {
		t.Error("the service must be a oneshot that treats exit 3 (a source incomplete) as done")
	}
	if tmr["Timer"]["OnCalendar"] == nil || tmr["Timer"]["Unit"][0] != "idgraph.service" {
		t.Errorf("timer %v", tmr)
	}
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: units parsed, not linted")
		return
	}
	// Lint a copy whose ExecStart points at a binary that exists here.
	dir := t.TempDir()
	for _, f := range []string{"idgraph.service", "idgraph.timer"} {
		b, _ := os.ReadFile(filepath.Join("systemd", f))
		os.WriteFile(filepath.Join(dir, f), bytes.ReplaceAll(b, []byte("/usr/local/bin/idgraph"), []byte("/bin/true")), 0o644)
	}
	out, err := exec.Command(sa, "verify", filepath.Join(dir, "idgraph.service"), filepath.Join(dir, "idgraph.timer")).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func build(t *testing.T, name string, y []byte) {
	t.Helper()
	cfg, err := config.Parse(y, "/etc/idgraph/"+name, collectors.Names())
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	srcs, err := pipeline.Build(cfg, func(string) string { return "set-in-the-test" }, nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(srcs) < 3 {
		t.Errorf("%s configures %d sources", name, len(srcs))
	}
}

func TestKubernetesManifest(t *testing.T) {
	b, err := os.ReadFile("kubernetes/cronjob.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	kinds := map[string]map[string]any{}
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if doc["apiVersion"] == nil || doc["kind"] == nil {
			t.Fatalf("a document without apiVersion and kind: %v", doc)
		}
		kinds[doc["kind"].(string)] = doc
	}
	cj := kinds["CronJob"]
	spec := cj["spec"].(map[string]any)
	if spec["concurrencyPolicy"] != "Forbid" {
		t.Error("two runs must never overlap")
	}
	pod := spec["jobTemplate"].(map[string]any)["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	sidecar := pod["initContainers"].([]any)[0].(map[string]any)
	if sidecar["restartPolicy"] != "Always" || !strings.Contains(sidecar["image"].(string), "headless-shell") {
		t.Errorf("the Chromium sidecar: %v", sidecar)
	}
	main := pod["containers"].([]any)[0].(map[string]any)
	if main["envFrom"].([]any)[0].(map[string]any)["secretRef"] == nil {
		t.Error("secrets must come from a Secret")
	}
	cm := kinds["ConfigMap"]["data"].(map[string]any)["idgraph.yaml"].(string)
	if !strings.Contains(cm, "browser_url: ws://127.0.0.1:9222") {
		t.Error("the configuration must point Stonly at the sidecar")
	}
	build(t, "the ConfigMap's idgraph.yaml", []byte(cm))
	if kinds["PersistentVolumeClaim"] == nil {
		t.Error("the store needs a volume")
	}
}

// TestExampleConfigLoads: the example that `idgraph init` writes builds
// every source it configures.
func TestExampleConfigLoads(t *testing.T) {
	build(t, "example.yaml", config.Example)
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var froms, user, entry int
	continued := false
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		wasContinued := continued
		continued = strings.HasSuffix(strings.TrimSpace(l), "\\")
		if len(f) == 0 || strings.HasPrefix(f[0], "#") || wasContinued {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms++
		case "USER":
			user++
			if f[1] == "root" || f[1] == "0" {
				t.Error("the image must not run as root")
			}
		case "ENTRYPOINT":
			entry++
		case "RUN", "COPY", "WORKDIR", "CMD", "ARG", "ENV":
		default:
			t.Errorf("unexpected instruction %q", l)
		}
	}
	if froms != 2 || user != 1 || entry != 1 {
		t.Errorf("want a two-stage build, a USER and an ENTRYPOINT: %d %d %d", froms, user, entry)
	}
}

// written returns the folders a run of cfg writes in, by the key that
// names them: the store's folder (its WAL, journal and run lock sit beside
// it), the reports, Stonly's page captures (default: a folder in the
// temporary directory).
func written(t *testing.T, cfg *config.Config) map[string]string {
	t.Helper()
	out := map[string]string{"store": filepath.Dir(cfg.Path(cfg.Store))}
	if cfg.Report.Dir != "" {
		out["report.dir"] = cfg.Path(cfg.Report.Dir)
	}
	for _, sn := range cfg.Sources {
		if sn.Name != "stonly" {
			continue
		}
		var st struct {
			DebugDir string `yaml:"debug_dir"`
		}
		if err := sn.Node.Decode(&st); err != nil {
			t.Fatal(err)
		}
		if out["stonly.debug_dir"] = cfg.Path(st.DebugDir); st.DebugDir == "" {
			out["stonly.debug_dir"] = filepath.Join(os.TempDir(), "idgraph-stonly-debug")
		}
	}
	return out
}

func under(p string, dirs []string) bool {
	for _, d := range dirs {
		if p == d || strings.HasPrefix(p, strings.TrimSuffix(d, "/")+"/") {
			return true
		}
	}
	return false
}

// unitWritable lists what the unit lets its process write: with
// ProtectSystem=strict the whole file system is read-only but for the
// StateDirectory=, ReadWritePaths= and, with PrivateTmp=, /tmp and
// /var/tmp (systemd.exec(5)).
func unitWritable(t *testing.T, u deploy.Unit) []string {
	t.Helper()
	if u.Last("Service", "ProtectSystem") != "strict" {
		t.Fatalf("ProtectSystem=%s: the unit should keep the file system read-only (strict)", u.Last("Service", "ProtectSystem"))
	}
	dirs := u.StateDirs()
	for _, v := range u["Service"]["ReadWritePaths"] {
		for _, d := range strings.Fields(v) {
			dirs = append(dirs, strings.TrimLeft(d, "-+"))
		}
	}
	if u.Last("Service", "PrivateTmp") == "yes" {
		dirs = append(dirs, "/tmp", "/var/tmp")
	}
	return dirs
}

// TestSystemdUnitAndInitAgree: the configuration `idgraph init --system`
// writes, read where the unit reads it, puts every file a run writes into
// a folder the unit lets it write, though relative paths resolve against
// the configuration's folder, which ProtectSystem=strict makes read-only.
// The plain example there would not: the check can fail.
func TestSystemdUnitAndInitAgree(t *testing.T) {
	u := ini(t, "systemd/idgraph.service")
	writable := unitWritable(t, u)
	sys, err := deploy.System()
	if err != nil {
		t.Fatal(err)
	}
	if sys.Config != "/etc/idgraph/idgraph.yaml" || sys.StateDir != "/var/lib/idgraph" {
		t.Errorf("system layout %+v", sys)
	}
	if under(sys.Config, writable) {
		t.Errorf("the configuration %s should be outside what the unit may write", sys.Config)
	}
	if wd := u.Last("Service", "WorkingDirectory"); !under(wd, u.StateDirs()) {
		t.Errorf("WorkingDirectory=%s is not in the StateDirectory %v", wd, u.StateDirs())
	}
	y, err := deploy.SystemConfig(config.Example, sys.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(y, sys.Config, collectors.Names())
	if err != nil {
		t.Fatalf("the system configuration: %v\n%s", err, y)
	}
	w := written(t, cfg)
	for _, k := range []string{"store", "report.dir", "stonly.debug_dir"} {
		if w[k] == "" {
			t.Errorf("the system configuration sets no %s", k)
		} else if !under(w[k], writable) {
			t.Errorf("%s resolves to %s, which the unit cannot write (it may write %v)", k, w[k], writable)
		}
	}
	if cfg.Path(cfg.Store) != "/var/lib/idgraph/idgraph.db" {
		t.Errorf("store %s", cfg.Path(cfg.Store))
	}
	build(t, "the system configuration", y)
	// Only the written paths changed: the rest of the example, comments
	// included, is as it was.
	ex, sy := strings.Split(string(config.Example), "\n"), strings.Split(string(y), "\n")
	sy = sy[len(sy)-len(ex):]
	changed := 0
	for i := range ex {
		if ex[i] != sy[i] {
			changed++
			if !strings.Contains(sy[i], "/var/lib/idgraph/") {
				t.Errorf("line %d changed: %q -> %q", i+1, ex[i], sy[i])
			}
		}
	}
	if changed != 3 {
		t.Errorf("%d lines changed, want 3 (store, report.dir, stonly.debug_dir)", changed)
	}
	// The example as it is, in /etc/idgraph, would write the store there.
	plain, err := config.Parse(config.Example, sys.Config, collectors.Names())
	if err != nil {
		t.Fatal(err)
	}
	if p := written(t, plain)["store"]; under(p, writable) {
		t.Errorf("the plain example's store folder %s should be read-only under the unit", p)
	}
}

func TestSystemConfig(t *testing.T) {
	for _, tt := range []struct {
		name, in, want, err string
	}{
		{"comments keep their column", "store: idgraph.db       # the file\nreport:\n  dir: reports           # out\n",
			"store: /srv/x/idgraph.db # the file\nreport:\n  dir: /srv/x/reports    # out\n", ""},
		{"absolute and quoted values stay", "store: /data/idgraph.db\nreport: {dir: \"reports\"}\n", "store: /data/idgraph.db\nreport: {dir: \"reports\"}\n", ""},
		{"a flow mapping", "store: a.db\nstonly: {url: https://app.stonly.com, debug_dir: captures}\n",
			"store: /srv/x/a.db\nstonly: {url: https://app.stonly.com, debug_dir: /srv/x/captures}\n", ""},
		{"no store", "report: {dir: r}\n", "", "no store key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := deploy.SystemConfig([]byte(tt.in), "/srv/x")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, body, _ := strings.Cut(string(got), "StateDirectory.\n"); body != tt.want {
				t.Errorf("got\n%s\nwant\n%s", body, tt.want)
			}
		})
	}
}

// TestKubernetesPathsAreWritable: the CronJob mounts the configuration
// read-only and the root file system is read-only, so every path a run
// writes must be absolute on the data volume.
func TestKubernetesPathsAreWritable(t *testing.T) {
	b, err := os.ReadFile("kubernetes/cronjob.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type mount struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	}
	var cm string
	var args []string
	var mounts []mount
	var readOnlyRoot bool
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc struct {
			Kind string `yaml:"kind"`
			Data map[string]string
			Spec struct {
				JobTemplate struct {
					Spec struct {
						Template struct {
							Spec struct {
								Containers []struct {
									Name            string   `yaml:"name"`
									Args            []string `yaml:"args"`
									VolumeMounts    []mount  `yaml:"volumeMounts"`
									SecurityContext struct {
										ReadOnlyRootFilesystem bool `yaml:"readOnlyRootFilesystem"`
									} `yaml:"securityContext"`
								} `yaml:"containers"`
							} `yaml:"spec"`
						} `yaml:"template"`
					} `yaml:"spec"`
				} `yaml:"jobTemplate"`
			} `yaml:"spec"`
		}
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		switch doc.Kind {
		case "ConfigMap":
			cm = doc.Data["idgraph.yaml"]
		case "CronJob":
			c := doc.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
			args, mounts, readOnlyRoot = c.Args, c.VolumeMounts, c.SecurityContext.ReadOnlyRootFilesystem
		}
	}
	u := deploy.Unit{"Service": {"ExecStart": {"idgraph " + strings.Join(args, " ")}}}
	file := u.ConfigFile()
	if file == "" || cm == "" {
		t.Fatalf("config %q, ConfigMap %d bytes", file, len(cm))
	}
	if !readOnlyRoot {
		t.Error("the container's root file system should be read-only")
	}
	var writable []string
	for _, m := range mounts {
		if under(file, []string{m.MountPath}) && !m.ReadOnly {
			t.Errorf("the configuration's mount %s should be read-only", m.MountPath)
		}
		if !m.ReadOnly {
			writable = append(writable, m.MountPath)
		}
	}
	cfg, err := config.Parse([]byte(cm), file, collectors.Names())
	if err != nil {
		t.Fatal(err)
	}
	for k, p := range written(t, cfg) {
		if !under(p, writable) {
			t.Errorf("%s resolves to %s, which the CronJob cannot write (writable: %v)", k, p, writable)
		}
	}
}
