package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/deploy"
	"github.com/idgraph/idgraph/serve"
)

// TestDoctorLineKeepsWholeNames: a check's name is printed whole however
// long; shorter names are padded so that details line up.
func TestDoctorLineKeepsWholeNames(t *testing.T) {
	long := "workday-hr-directory-export: configuration and secrets"
	for _, tt := range []struct {
		name          string
		ok            bool
		what, fix     string
		want, wantFix string
	}{
		{"short, padded", true, "store", "", "ok    store" + strings.Repeat(" ", checkColumn-len("store")) + " detail\n", ""},
		{"exactly the column", true, strings.Repeat("x", checkColumn), "", "ok    " + strings.Repeat("x", checkColumn) + " detail\n", ""},
		{"longer than the column", false, long, "set it", "FAIL  " + long + " detail\n", "      fix: set it\n"},
		{"control characters made safe, not cut", true, "okta\x1b[31m: read users and more words than fit", "", "ok    okta\uFFFD[31m: read users and more words than fit detail\n", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			writeCheck(&b, tt.ok, tt.what, "detail", tt.fix)
			if b.String() != tt.want+tt.wantFix {
				t.Errorf("got\n%q\nwant\n%q", b.String(), tt.want+tt.wantFix)
			}
		})
	}
}

// TestDoctorPrintsLongCheckNames runs doctor over sources whose names make
// checks longer than the column: every name is printed whole.
func TestDoctorPrintsLongCheckNames(t *testing.T) {
	cfg := quickstart(t)
	b, _ := os.ReadFile(cfg)
	long := "workday-hr-directory-export-nightly"
	b = bytes.Replace(b, []byte("csvfile:\n"), []byte("csvfile:\n  - {name: "+long+", kind: idp, path: okta-users.csv}\n"), 1)
	os.WriteFile(cfg, b, 0o600)
	r := run(t, nil, "doctor", "-q", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	want := "ok    " + long + ": configuration and secrets set\n"
	if !strings.Contains(r.stdout, want) {
		t.Errorf("no line %q:\n%s", want, r.stdout)
	}
	if strings.Contains(r.stdout, "…") {
		t.Errorf("a name or detail is cut:\n%s", r.stdout)
	}
}

func parseConfig(t *testing.T, file string) *config.Config {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(b, file, collectors.Names())
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return cfg
}

// TestInitWritesAServeSection: what init writes configures serve with
// reviewers and a session key, which serve needs together, and serve's
// checks pass once the variables it names are set.
func TestInitWritesAServeSection(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idgraph.yaml")
	if r := run(t, nil, "init", "-o", file); r.code != 0 {
		t.Fatalf("init: %d %s%s", r.code, r.stdout, r.stderr)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v %v, want 0600", fi.Mode(), err)
	}
	cfg := parseConfig(t, file)
	s := cfg.Serve
	if s.TokenEnv != "IDGRAPH_TOKEN" || s.UsersEnv != "IDGRAPH_USERS" || s.SessionSecretEnv != "IDGRAPH_SESSION_SECRET" {
		t.Errorf("serve section %+v", s)
	}
	env := map[string]string{"IDGRAPH_TOKEN": testToken, "IDGRAPH_USERS": testUsers, "IDGRAPH_SESSION_SECRET": testSession}
	sec, checks := checkServe(cfg, func(k string) string { return env[k] })
	for _, c := range checks {
		if c.err != nil {
			t.Errorf("%s: %v", c.name, c.err)
		}
	}
	if len(sec.users) != 1 || len(sec.session) < minSessionSecret {
		t.Errorf("secrets read: %d users, %d-byte session key", len(sec.users), len(sec.session))
	}
	// Without the session key, serve's checks stop it, naming the variable.
	delete(env, "IDGRAPH_SESSION_SECRET")
	_, checks = checkServe(cfg, func(k string) string { return env[k] })
	failed := false
	for _, c := range checks {
		failed = failed || c.err != nil && strings.Contains(c.err.Error(), "IDGRAPH_SESSION_SECRET")
	}
	if !failed {
		t.Error("serve's checks pass without the session secret")
	}
	if r := run(t, nil, "init", "-o", file); r.code != 2 || !strings.Contains(r.stderr, "--force") {
		t.Errorf("init over an existing file: exit %d %s", r.code, r.stderr)
	}
}

// TestInitSystem: init --system writes what the systemd unit reads: every
// path a run writes absolute in the unit's state folder, readable by the
// service's user; the rest is the example.
func TestInitSystem(t *testing.T) {
	sys, err := deploy.System()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "etc", "idgraph.yaml")
	r := run(t, nil, "init", "--system", "-o", file)
	if r.code != 0 || !strings.Contains(r.stdout, sys.StateDir) {
		t.Fatalf("init --system: %d %s%s", r.code, r.stdout, r.stderr)
	}
	b, _ := os.ReadFile(file)
	want, err := deploy.SystemConfig(config.Example, sys.StateDir)
	if err != nil || !bytes.Equal(b, want) {
		t.Fatalf("init --system wrote other bytes than deploy.SystemConfig (%v)", err)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 (the service's user reads it)", fi.Mode())
	}
	cfg := parseConfig(t, file)
	if got := cfg.Path(cfg.Store); got != filepath.Join(sys.StateDir, "idgraph.db") {
		t.Errorf("store %s", got)
	}
	if got := cfg.Path(cfg.Report.Dir); got != filepath.Join(sys.StateDir, "reports") {
		t.Errorf("report.dir %s", got)
	}
	if cfg.Serve.UsersEnv != "IDGRAPH_USERS" || cfg.Serve.SessionSecretEnv != "IDGRAPH_SESSION_SECRET" {
		t.Errorf("serve %+v", cfg.Serve)
	}
	// --force over a private file leaves it readable as the unit needs.
	os.Chmod(file, 0o600)
	if r := run(t, nil, "init", "--system", "--force", "-o", file); r.code != 0 {
		t.Fatalf("init --system --force: %d %s", r.code, r.stderr)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode after --force %v", fi.Mode())
	}
}

// TestServeNextRunInItsTimeZone: serve's start line says when the next run
// is due and in which zone: serve.timezone's, or the machine's by name.
func TestServeNextRunInItsTimeZone(t *testing.T) {
	for _, tt := range []struct {
		name, yaml string
		want       *regexp.Regexp
	}{
		{"serve.timezone", strings.TrimSuffix(serveSection, "}\n") + `, schedule: "0 2 * * *", timezone: Europe/Paris}` + "\n",
			regexp.MustCompile(`next_run="\d{4}-\d\d-\d\d 02:00 CES?T \(Europe/Paris\)"`)},
		{"another zone", strings.TrimSuffix(serveSection, "}\n") + `, schedule: "30 6 * * 1-5", timezone: America/New_York}` + "\n",
			regexp.MustCompile(`next_run="\d{4}-\d\d-\d\d 06:30 E[SD]T \(America/New_York\)"`)},
		{"the machine's zone", serveSection,
			regexp.MustCompile(`schedule="0 2 \* \* \*" next_run="\d{4}-\d\d-\d\d 02:00 \S+ \(` + regexp.QuoteMeta(serve.ZoneName(nil)) + `\)"`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := serveConfig(t, tt.yaml)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stderr syncBuffer
			done := make(chan int, 1)
			go func() {
				done <- Main(ctx, []string{"serve", "-c", cfg}, strings.NewReader(""), io.Discard, &stderr, func(k string) string { return serveEnv[k] })
			}()
			for !strings.Contains(stderr.String(), "msg=serving") {
				select {
				case code := <-done:
					t.Fatalf("serve exited %d:\n%s", code, stderr.String())
				case <-time.After(5 * time.Millisecond):
				}
			}
			if !tt.want.MatchString(stderr.String()) {
				t.Errorf("the start line does not match %s:\n%s", tt.want, stderr.String())
			}
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("exit %d:\n%s", code, stderr.String())
			}
		})
	}
	r := run(t, serveEnv, "serve", "-q", "-c", serveConfig(t, strings.TrimSuffix(serveSection, "}\n")+", timezone: Europe/Pari}\n"))
	if r.code != 2 || !strings.Contains(r.stderr, `serve.timezone "Europe/Pari"`) || !strings.Contains(r.stderr, "IANA name") {
		t.Errorf("a misspelt zone: exit %d %s", r.code, r.stderr)
	}
}

// TestDoctorChecksTheSchedule: doctor parses serve.schedule and says when
// the next run is due and in which zone; serve refuses a bad schedule at
// its start, unless --no-schedule leaves it unused.
func TestDoctorChecksTheSchedule(t *testing.T) {
	section := strings.TrimSuffix(serveSection, "}\n")
	for _, tt := range []struct {
		name, yaml string
		code       int
		want       *regexp.Regexp
	}{
		{"in serve.timezone", section + `, schedule: "15 3 * * *", timezone: Asia/Tokyo}` + "\n", 0,
			regexp.MustCompile(`ok    serve: schedule\s+"15 3 \* \* \*"; next run \d{4}-\d\d-\d\d 03:15 JST \(Asia/Tokyo\)\n`)},
		{"the default", serveSection, 0,
			regexp.MustCompile(`ok    serve: schedule\s+"0 2 \* \* \*"; next run \d{4}-\d\d-\d\d 02:00 \S+ \(` + regexp.QuoteMeta(serve.ZoneName(nil)) + `\)\n`)},
		{"not a cron expression", section + `, schedule: "0 25 * * *"}` + "\n", 1,
			regexp.MustCompile(`FAIL  serve: schedule\s+serve.schedule "0 25 \* \* \*" is not a cron expression: .*\n      fix: a cron expression of five fields`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, serveEnv, "doctor", "-q", "-c", serveConfig(t, tt.yaml))
			if r.code != tt.code || !tt.want.MatchString(r.stdout) {
				t.Errorf("exit %d, want %d and %s:\n%s%s", r.code, tt.code, tt.want, r.stdout, r.stderr)
			}
		})
	}
	cfg := serveConfig(t, section+`, schedule: "0 25 * * *"}`+"\n")
	if r := run(t, serveEnv, "serve", "-q", "-c", cfg); r.code != 2 || !strings.Contains(r.stderr, `serve.schedule "0 25 * * *" is not a cron expression`) {
		t.Errorf("serve with a bad schedule: exit %d %s", r.code, r.stderr)
	}
}
