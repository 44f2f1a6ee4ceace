package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idgraph/idgraph/collectors/entra/graphtest"
	"github.com/idgraph/idgraph/collectors/okta/oktatest"
	"github.com/idgraph/idgraph/collectors/stonly/stonlytest"
	"github.com/idgraph/idgraph/internal/browsertest"
	"github.com/idgraph/idgraph/internal/demo"
)

func TestDoctor(t *testing.T) {
	browsertest.Path(t)
	dir := t.TempDir()
	env, err := demo.Start(demo.New(50), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	doctor := func(getenv func(string) string) result {
		var out, errb strings.Builder
		code := Main(context.Background(), []string{"doctor", "-q", "-c", env.Config}, strings.NewReader(""), &out, &errb, getenv)
		return result{code, out.String(), errb.String()}
	}
	r := doctor(env.Getenv)
	if r.code != 0 || !strings.Contains(r.stdout, "all checks passed") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"okta: read users", "entra: GroupMember.Read.All", "stonly: login", "stonly: Team Management", "store"} {
		if !strings.Contains(r.stdout, "ok    "+want) {
			t.Errorf("no passing line for %q:\n%s", want, r.stdout)
		}
	}
	pw := env.Getenv("DEMO_STONLY_PASSWORD")
	tests := []struct {
		name   string
		set    func()
		clear  func()
		getenv func(string) string
		want   string
	}{
		{"okta token rejected", func() { env.Okta.SetFaults(oktatest.Faults{Unauthorized: true}) }, func() { env.Okta.SetFaults(oktatest.Faults{}) }, nil, "FAIL  okta: read users"},
		{"okta token without admin rights", func() { env.Okta.SetFaults(oktatest.Faults{NoAdmin: true}) }, func() { env.Okta.SetFaults(oktatest.Faults{}) }, nil, "grant Read-only Administrator"},
		{"entra permission missing", func() { env.Graph.SetFaults(graphtest.Faults{DropPermissions: []string{graphtest.ApplicationReadAll}}) },
			func() { env.Graph.SetFaults(graphtest.Faults{}) }, nil, "FAIL  entra: Application.Read.All"},
		{"stonly login refused", func() { env.Stonly.Update(func(sc *stonlytest.Scenario) { sc.Password = "other" }) },
			func() { env.Stonly.Update(func(sc *stonlytest.Scenario) { sc.Password = pw }) }, nil, "FAIL  stonly: login"},
		{"a secret's variable unset", func() {}, func() {}, func(k string) string {
			if k == "DEMO_ENTRA_SECRET" {
				return ""
			}
			return env.Getenv(k)
		}, "FAIL  entra: configuration and secrets"},
		{"store readable by others", func() {
			os.WriteFile(filepath.Join(dir, "idgraph.db"), nil, 0o644)
			os.Chmod(filepath.Join(dir, "idgraph.db"), 0o644)
		},
			func() { os.Remove(filepath.Join(dir, "idgraph.db")) }, nil, "chmod 600"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.set()
			defer tt.clear()
			g := tt.getenv
			if g == nil {
				g = env.Getenv
			}
			r := doctor(g)
			if r.code != 1 || !strings.Contains(r.stdout, tt.want) {
				t.Fatalf("exit %d, want 1 and %q:\n%s%s", r.code, tt.want, r.stdout, r.stderr)
			}
			for _, s := range env.Secrets() {
				if strings.Contains(r.stdout+r.stderr, s) {
					t.Fatal("doctor printed a secret")
				}
			}
		})
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("store: x.db\noktaa: {}\n"), 0o600)
	if r := run(t, nil, "doctor", "-c", bad); r.code != 2 || !strings.Contains(r.stdout, "FAIL  configuration") {
		t.Errorf("invalid configuration: exit %d\n%s", r.code, r.stdout)
	}
}
