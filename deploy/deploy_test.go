// Package deploy holds the deployment files; its tests keep them valid.
package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/idgraph/idgraph"
	"github.com/idgraph/idgraph/collectors"
	_ "github.com/idgraph/idgraph/collectors/all"
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/pipeline"
)

// ini parses a systemd unit into section -> key -> values.
func ini(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string][]string{}
	sec := ""
	sc := bufio.NewScanner(f)
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
				t.Fatalf("%s:%d: not a key=value line in a section: %q", path, n, l)
			}
			out[sec][k] = append(out[sec][k], v)
		}
	}
	return out
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

func TestExampleConfigLoads(t *testing.T) {
	disk, err := os.ReadFile("../idgraph.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(disk, idgraph.ExampleConfig) {
		t.Fatal("the embedded example differs from idgraph.example.yaml")
	}
	build(t, "idgraph.example.yaml", disk)
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
