package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// campaignConfig is the quick start with campaign routing: oscar owns
// stonly (and is its Owner, so his own access goes to the fallback), and
// reminders go to a webhook.
func campaignConfig(t *testing.T, review string) string {
	t.Helper()
	cfg := quickstart(t)
	b, _ := os.ReadFile(cfg)
	b = append(b, []byte(review+"\nalerts:\n  webhook: {url_env: HOOK_URL, secret_env: HOOK_SECRET}\n")...)
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

type campaignItemJSON struct {
	ID, Key, Email, Reviewer, State string
	Kind                            string `json:"item_kind"`
	Finding                         struct {
		Kind, Severity string
		ActualRole     string `json:"actual_role"`
	}
}

func TestCampaignCommands(t *testing.T) {
	var mu sync.Mutex
	var hooks []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hooks = append(hooks, r.Header.Get("X-Idgraph-Event")+" "+string(b))
		mu.Unlock()
	}))
	defer srv.Close()
	env := map[string]string{"HOOK_URL": srv.URL, "HOOK_SECRET": "s3cret"}
	cfg := campaignConfig(t, "review:\n  owners: {stonly: oscar@acme.com}\n  fallback_reviewer: fiona@example.com")
	dir := filepath.Dir(cfg)
	if r := run(t, env, "run", "-q", "--config", cfg); r.code != exitOK {
		t.Fatalf("run: %d %s", r.code, r.stderr)
	}
	today := time.Now().UTC().Format("2006-01-02")
	must := func(code int, want string, args ...string) result {
		t.Helper()
		r := run(t, env, append(args, "--config", cfg)...)
		if r.code != code || !strings.Contains(r.stdout+r.stderr, want) {
			t.Fatalf("idgraph %s: exit %d, want %d with %q\n%s\n%s", strings.Join(args, " "), r.code, code, want, r.stdout, r.stderr)
		}
		return r
	}
	must(exitUsage, "--app APP is required", "campaign", "start")
	must(exitUsage, "--route reviewer needs --reviewer", "campaign", "start", "--app", "stonly", "--route", "reviewer")
	must(exitOK, "started campaign 1 of stonly", "campaign", "start", "--app", "stonly", "--due", today, "--by", "lead@acme.com")

	r := must(exitOK, `"items"`, "campaign", "show", "1", "--format", "json")
	var shown struct {
		State    string
		Progress struct{ Total, Decided int }
		Items    []campaignItemJSON
	}
	if err := json.Unmarshal([]byte(r.stdout), &shown); err != nil {
		t.Fatal(err, r.stdout)
	}
	var access, plain, admin *campaignItemJSON
	for i, it := range shown.Items {
		want := "oscar@acme.com"
		if it.Email == "oscar@acme.com" {
			want = "fiona@example.com" // the owner's own access
		}
		if it.Reviewer != want {
			t.Errorf("item %s (%s): reviewer %s, want %s", it.ID, it.Email, it.Reviewer, want)
		}
		switch {
		case it.Kind == "access" && access == nil:
			access = &shown.Items[i]
		case it.Finding.Kind == "orphaned" && it.Finding.Severity != "critical" && it.Finding.ActualRole == "Member" && plain == nil:
			plain = &shown.Items[i]
		case it.Finding.ActualRole == "Admin" && it.Email != "oscar@acme.com" && admin == nil:
			admin = &shown.Items[i]
		}
	}
	if access == nil || plain == nil || admin == nil || shown.State != "open" || shown.Progress.Total != len(shown.Items) {
		t.Fatalf("campaign show: %+v", shown)
	}
	must(exitUsage, "reviews nothing in campaign 1", "campaign", "show", "1", "--reviewer", "nobody-else@acme.com")
	must(exitOK, "fiona@example.com", "campaign", "show", "1", "--reviewer", "Fiona@example.com")
	csvOut := filepath.Join(dir, "items.csv")
	must(exitOK, "", "campaign", "show", "1", "--out", csvOut)
	if b, _ := os.ReadFile(csvOut); !bytes.HasPrefix(b, []byte("campaign_id,item_id,item_kind")) {
		t.Fatalf("campaign show --out items.csv wrote:\n%s", b)
	}

	exp := time.Now().Add(60 * 24 * time.Hour).UTC().Format("2006-01-02")
	must(exitOK, "recorded decision", "campaign", "decide", "1", access.ID, "--decision", "approve", "--justification", "still needed",
		"--reviewer", "oscar@acme.com", "--expires", exp)
	must(exitUsage, "their own access", "campaign", "decide", "1", access.ID, "--decision", "revoke", "--justification", "x", "--reviewer", access.Email)
	// A finding item is decided with `idgraph decide` too, by the same rules.
	must(exitOK, "recorded decision", "decide", plain.ID, "--decision", "revoke", "--justification", "left", "--reviewer", "oscar@acme.com")

	// Four eyes on an Admin's access.
	must(exitOK, "needs a second reviewer", "campaign", "decide", "1", admin.ID, "--decision", "revoke", "--justification", "not needed", "--reviewer", "oscar@acme.com")
	must(exitUsage, "another person", "campaign", "decide", "1", admin.ID, "--confirm", "--reviewer", "oscar@acme.com")
	must(exitOK, "as second reviewer fiona@example.com", "campaign", "decide", "1", admin.ID, "--confirm", "--reviewer", "fiona@example.com")

	// Due today: every reviewer with undecided items is reminded, once each.
	must(exitOK, "reminded", "campaign", "remind", "1")
	mu.Lock()
	n := 0
	for _, h := range hooks {
		if strings.HasPrefix(h, "review_reminder ") { // the run's own alert went there too
			n++
			if !strings.Contains(h, `"campaign":1`) {
				t.Errorf("reminder delivery: %s", h)
			}
		}
	}
	mu.Unlock()
	if n != 2 { // oscar and fiona
		t.Fatalf("%d reminders delivered, want 2", n)
	}
	must(exitOK, "dry run", "campaign", "remind", "1", "--dry-run")

	must(exitOK, "signed off campaign 1 as lead@acme.com: 3 of", "campaign", "signoff", "1", "--reviewer", "lead@acme.com")
	must(exitUsage, "signed off already", "campaign", "signoff", "1", "--reviewer", "lead@acme.com")
	must(exitUsage, "signed off", "campaign", "decide", "1", access.ID, "--decision", "revoke", "--justification", "x", "--reviewer", "oscar@acme.com")
	must(exitOK, "signed off by lead@acme.com", "campaign", "list")

	pack := filepath.Join(dir, "pack")
	r = must(exitOK, "manifest.json", "evidence", "--campaign", "1", "--out", pack)
	must(exitUsage, "not empty", "evidence", "--campaign", "1", "--out", pack)
	must(exitUsage, "campaign 9", "evidence", "--campaign", "9", "--out", filepath.Join(dir, "pack9"))
	pack2 := filepath.Join(dir, "pack2")
	must(exitOK, "manifest.json", "evidence", "--campaign", "1", "--out", pack2)
	for _, f := range []string{"population.csv", "items.csv", "findings.csv", "accounts.csv", "decisions.csv", "remediation.csv", "campaign.json", "summary.html", "manifest.json"} {
		a, err := os.ReadFile(filepath.Join(pack, f))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(pack2, f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two packs of the signed-off campaign", f)
		}
	}
	must(exitOK, "", "verify")
}

func TestCampaignStartRefusals(t *testing.T) {
	// Alerts are configured but never reached: the webhook is not called.
	hookEnv := map[string]string{"HOOK_URL": "http://127.0.0.1:9/never", "HOOK_SECRET": "s3cret"}
	t.Run("no reviewer", func(t *testing.T) {
		cfg := campaignConfig(t, "review:\n  owners: {stonly: oscar@acme.com}")
		if r := run(t, hookEnv, "run", "-q", "--config", cfg); r.code != exitOK {
			t.Fatalf("run: %d %s", r.code, r.stderr)
		}
		r := run(t, hookEnv, "campaign", "start", "--app", "stonly", "--config", cfg)
		if r.code != exitUsage || !strings.Contains(r.stderr, "oscar@acme.com") || !strings.Contains(r.stderr, "fallback_reviewer") {
			t.Fatalf("exit %d, want 2 naming oscar's item and the fallback:\n%s", r.code, r.stderr)
		}
		if r := run(t, hookEnv, "campaign", "list", "--config", cfg, "--format", "json"); strings.TrimSpace(r.stdout) != "[]" {
			t.Fatalf("a refused start left campaigns: %s", r.stdout)
		}
	})
	t.Run("incomplete source", func(t *testing.T) {
		cfg := campaignConfig(t, "review:\n  fallback_reviewer: fiona@example.com")
		os.Remove(filepath.Join(filepath.Dir(cfg), "okta-users.csv"))
		if r := run(t, hookEnv, "run", "-q", "--config", cfg); r.code != exitIncomplete {
			t.Fatalf("run without the Okta export: exit %d, want 3\n%s", r.code, r.stderr)
		}
		r := run(t, hookEnv, "campaign", "start", "--app", "stonly", "--config", cfg)
		if r.code != exitIncomplete || !strings.Contains(r.stderr, "okta-export") {
			t.Fatalf("exit %d, want 3 naming okta-export:\n%s", r.code, r.stderr)
		}
	})
}
