package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idgraph/idgraph/internal/browsertest"
)

// TestDemoEndToEnd runs `idgraph demo`: the real Okta and Graph SDKs
// against their simulators, real Chromium against the Stonly replica, a
// real SQLite file, two runs, alerts to the demo's HMAC-checking webhook,
// and the reports. It is the README's first command.
func TestDemoEndToEnd(t *testing.T) {
	browsertest.Path(t)
	dir := t.TempDir()
	r := run(t, nil, "demo", "--dir", dir, "--people", "80")
	if r.code != 0 {
		t.Fatalf("demo exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, f := range []string{"idgraph.yaml", "idgraph.db", "alerts.jsonl", "report/report.html", "report/report.md",
		"report/accounts.csv", "report/accounts.csv.manifest.json", "report/findings.csv", "report/findings.csv.manifest.json"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Errorf("missing %s: %v", f, err)
			continue
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %o: evidence and the store are for the owner only", f, fi.Mode().Perm())
		}
	}
	cfg := filepath.Join(dir, "idgraph.yaml")
	fr := run(t, nil, "findings", "-c", cfg, "--format", "json")
	var fs []struct {
		Kind, Reason, Email, App, Severity, Explanation string
		ActualRole                                      string `json:"actual_role"`
		ExpectedRole                                    string `json:"expected_role"`
	}
	if err := json.Unmarshal([]byte(fr.stdout), &fs); err != nil {
		t.Fatalf("%v\n%s", err, fr.stdout)
	}
	kinds := map[string]bool{}
	for _, f := range fs {
		kinds[f.Kind+"/"+f.Reason] = true
	}
	for _, k := range []string{"orphaned/deprovisioned", "orphaned/unknown", "orphaned/not_yet_active", "unassigned/not_assigned",
		"missing/no_account", "missing/pending_invitation", "role_mismatch/excess", "role_mismatch/shortfall",
		"idp_conflict/status", "idp_conflict/role", "duplicate/same_team", "conflict/correlation"} {
		if !kinds[k] {
			t.Errorf("the demo shows no %s finding", k)
		}
	}
	// The second application, read over SCIM, has findings of its own,
	// judged on its own ladder; Stonly's are never about it.
	notion := map[string]string{}
	for _, f := range fs {
		if f.App == "notion" && f.Email != "" {
			notion[f.Kind+" "+f.Email] = f.Severity + " " + f.ActualRole + "/" + f.ExpectedRole
		}
		if f.App == "stonly" && strings.Contains(f.Explanation, "Notion") {
			t.Errorf("a Stonly finding speaks of the other application: %s", f.Explanation)
		}
	}
	for k, want := range map[string]string{
		"orphaned bob.leaver@acme.com":           "critical Workspace Owner/",
		"orphaned quentin.quitter@acme.com":      "critical Workspace Admin/",
		"unassigned carol.bypass@acme.com":       "medium Member/",
		"missing dave.missing@acme.com":          "low /Member",
		"role_mismatch grace.shortfall@acme.com": "high Workspace Owner/Member",
	} {
		if notion[k] != want {
			t.Errorf("Notion: %s is %q, want %q", k, notion[k], want)
		}
	}
	if !kinds["open_access/assignment_not_required"] {
		t.Error("the demo shows no open_access finding (Entra does not require assignment for Notion)")
	}
	// The folder is marked as the demo's, so that the next demo may
	// replace it, and the summary reads as a sentence.
	if _, err := os.Stat(filepath.Join(dir, demoMarker)); err != nil {
		t.Errorf("the demo folder is not marked: %v", err)
	}
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "findings today: ") && (strings.HasSuffix(l, ",") || !strings.Contains(l, " and conflict ")) {
			t.Errorf("summary line: %q", l)
		}
	}
	// Drift between the two runs, and one alert per run, signed.
	if !strings.Contains(r.stdout, "since snapshot 1: 3 appeared, 1 resolved") {
		t.Errorf("drift of the second run not as planted:\n%s", r.stdout)
	}
	alerts, _ := os.ReadFile(filepath.Join(dir, "alerts.jsonl"))
	lines := strings.Split(strings.TrimSpace(string(alerts)), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "quentin.quitter@acme.com") || strings.Contains(lines[1], "bob.leaver@acme.com") ||
		!strings.Contains(lines[2], `"resolved":2`) || strings.Contains(lines[2], "bob.leaver@acme.com") {
		t.Errorf("want three alerts: the second about Quentin only (Bob's standing finding alerted once), the third the two revocations resolved: %d lines", len(lines))
	}
	// The review's end: two revocations decided, carried out in Stonly (in
	// the browser) and in the SCIM app, and proven by the third read.
	if !strings.Contains(r.stdout, "remediation: 2 confirmed, 0 unconfirmed, 0 pending") {
		t.Errorf("the demo's revocations were not proven by the next read:\n%s", r.stdout)
	}
	for _, gone := range []string{"mallory.ext@gmail.com", "peggy.suspended@acme.com"} {
		for _, f := range fs {
			if f.Email == gone && f.Kind == "orphaned" && (f.App == "stonly" && gone[0] == 'm' || f.App == "notion" && gone[0] == 'p') {
				t.Errorf("%s is still orphaned in %s after the revocation was carried out", gone, f.App)
			}
		}
	}
	if v := run(t, nil, "verify", "-c", cfg); v.code != 0 {
		t.Errorf("verify: %s %s", v.stdout, v.stderr)
	}
	// No secret of the demo appears in any output or file it wrote.
	// The demo's secrets are random per run with fixed prefixes (00demo…,
	// demo~…, demo-…): none may show up anywhere.
	var secrets []string
	outputs := r.stdout + r.stderr + fr.stdout
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && !strings.HasSuffix(p, ".db") && !strings.HasSuffix(p, ".pem") {
			b, _ := os.ReadFile(p)
			outputs += string(b)
		}
		return nil
	})
	for _, word := range []string{"00demo", "demo~", "demo-"} {
		if i := strings.Index(outputs, word); i >= 0 && !strings.Contains(outputs[max(0, i-20):i+10], "idgraph-demo") {
			secrets = append(secrets, outputs[max(0, i-30):min(len(outputs), i+30)])
		}
	}
	if len(secrets) > 0 {
		t.Errorf("secrets of the demo leaked into its outputs: %q", secrets)
	}
}
