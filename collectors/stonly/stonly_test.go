package stonly

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/stonly/stonlytest"
)

const password = "correct horse battery staple"

// needChromium skips without a browser, except in CI, where a missing
// browser is a failure: these tests must run there.
func needChromium(t testing.TB) {
	t.Helper()
	if _, err := ChromiumPath(""); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %v", err)
		}
		t.Skip(err)
	}
}

func newCollector(t testing.TB, srv *stonlytest.Server, debug string, mod ...func(*Config)) *Collector {
	t.Helper()
	cfg := Config{URL: srv.URL, Email: "it-bot@acme.com", PasswordEnv: "STONLY_PASSWORD", StepTimeout: 10 * time.Second,
		Timeout: 2 * time.Minute, DebugDir: debug}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := NewCollector(cfg, collectors.Env{File: "t.yaml", Getenv: func(k string) string {
		return map[string]string{"STONLY_PASSWORD": password, "STONLY_SESSION": srv.NewSession(), "STONLY_STALE": "0123456789abcdef"}[k]
	}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fast(v stonlytest.Variant) stonlytest.Variant {
	if v.RenderDelay == 0 {
		v.RenderDelay = 150 * time.Millisecond
	}
	if v.LoadDelay == 0 {
		v.LoadDelay = 30 * time.Millisecond
	}
	return v
}

// TestVariants reads 60 members over two teams (plus two invitations
// each) in every known shape of the page.
func TestVariants(t *testing.T) {
	needChromium(t)
	tests := []struct {
		name string
		v    stonlytest.Variant
		cfg  func(*Config)
		want int // members
	}{
		{"html table", stonlytest.Variant{}, nil, 60},
		{"aria grid of divs", stonlytest.Variant{Layout: "grid"}, nil, 60},
		{"aria table of divs", stonlytest.Variant{Layout: "ariatable"}, nil, 60},
		{"headers in another order with extra columns", stonlytest.Variant{Columns: []string{"role", "groups", "email", "joined", "name", "activity"}}, nil, 60},
		{"pagination with Next and page numbers", stonlytest.Variant{Paging: "pages", PageSize: 10}, nil, 60},
		{"load more", stonlytest.Variant{Paging: "loadmore", PageSize: 7, Layout: "grid"}, nil, 60},
		{"infinite scroll", stonlytest.Variant{Paging: "scroll", PageSize: 8}, nil, 60},
		{"slow rendering", stonlytest.Variant{Paging: "loadmore", RenderDelay: 2 * time.Second, LoadDelay: 600 * time.Millisecond, PageSize: 20}, nil, 60},
		{"roles in selects", stonlytest.Variant{RoleSelect: true}, nil, 60},
		{"no member count shown", stonlytest.Variant{HideCount: true}, nil, 60},
		{"session cookie for SSO", stonlytest.Variant{}, func(c *Config) { c.PasswordEnv, c.SessionCookieEnv = "", "STONLY_SESSION" }, 60},
		{"configured subset of teams", stonlytest.Variant{}, func(c *Config) { c.Teams = []string{"sales"} }, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := stonlytest.Generate(60, "Support Center", "Sales")
			srv := stonlytest.NewServer(sc)
			defer srv.Close()
			srv.SetVariant(fast(tt.v))
			var mods []func(*Config)
			if tt.cfg != nil {
				mods = append(mods, tt.cfg)
			}
			res, err := newCollector(t, srv, t.TempDir(), mods...).Collect(context.Background(), collectors.Request{})
			if err != nil || !res.Completeness.Complete {
				t.Fatalf("err %v, %+v", err, res.Completeness)
			}
			wantAdmins := 0
			for _, tm := range sc.Teams {
				if tt.want == 30 && tm.Name != "Sales" {
					continue
				}
				for _, m := range tm.Members {
					if m.Role == "Admin" {
						wantAdmins++
					}
				}
			}
			var members, invites, owners, admins int
			for _, a := range res.Accounts {
				switch a.Status {
				case collectors.StatusActive:
					members++
				case collectors.StatusInvited:
					invites++
				}
				if a.Role == "Owner" {
					owners++
				}
				if a.Role == "Admin" && a.Status == collectors.StatusActive {
					admins++
				}
				if a.Team == "" || a.TeamName == "" || !strings.HasSuffix(a.Email, "@acme.com") {
					t.Errorf("account %+v lacks team or address", a)
				}
			}
			teams := tt.want / 30
			if members != tt.want || invites != 2*teams || owners != teams || admins != wantAdmins {
				t.Errorf("members %d (want %d), invitations %d (want %d), owners %d, admins %d", members, tt.want, invites, 2*teams, owners, admins)
			}
			if len(res.Completeness.Warnings) > 0 {
				t.Errorf("warnings: %v", res.Completeness.Warnings)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	needChromium(t)
	tests := []struct {
		name    string
		v       stonlytest.Variant
		cfg     func(*Config)
		members int // team members to generate (one team)
		errHas  string
		capture bool
	}{
		{"wrong password", stonlytest.Variant{}, func(c *Config) { c.Email = "someone.else@acme.com" }, 10, "refused the login of someone.else@acme.com", false},
		{"MFA prompt", stonlytest.Variant{MFA: true}, nil, 10, "verification code", false},
		{"captcha", stonlytest.Variant{Captcha: true}, nil, 10, "captcha", false},
		{"expired session cookie", stonlytest.Variant{}, func(c *Config) { c.PasswordEnv, c.SessionCookieEnv = "", "STONLY_STALE" }, 10, "did not accept the session cookie in STONLY_STALE", false},
		{"session expires mid-scrape", stonlytest.Variant{Paging: "loadmore", PageSize: 5, ExpireAfter: 3}, nil, 40, "session expired while reading team", false},
		{"renamed headers", stonlytest.Variant{Renamed: true}, nil, 10, "layout changed: no table with Email and Role columns", true},
		{"member count mismatch", stonlytest.Variant{CountOffset: 2}, nil, 15, "the page says 17 members but 15 rows were read", true},
		{"silently empty list", stonlytest.Variant{SilentEmpty: true}, func(c *Config) { c.StepTimeout = 5 * time.Second }, 10, "layout changed", true},
		{"unknown team", stonlytest.Variant{}, func(c *Config) { c.Teams = []string{"Marketing"} }, 10, "cannot see the configured teams Marketing", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := stonlytest.NewServer(stonlytest.Generate(tt.members, "Support Center"))
			defer srv.Close()
			srv.SetVariant(fast(tt.v))
			debug := t.TempDir()
			var mods []func(*Config)
			if tt.cfg != nil {
				mods = append(mods, tt.cfg)
			}
			start := time.Now()
			res, err := newCollector(t, srv, debug, mods...).Collect(context.Background(), collectors.Request{})
			if err == nil || res.Completeness.Complete {
				t.Fatalf("want an incomplete source, got err %v %+v", err, res.Completeness)
			}
			if !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("error %q does not contain %q", err, tt.errHas)
			}
			if strings.Contains(err.Error(), password) {
				t.Fatal("the password leaked into the error")
			}
			if srv.Logins() > 1 {
				t.Errorf("%d login attempts: a failed login must not be retried", srv.Logins())
			}
			if time.Since(start) > 45*time.Second {
				t.Errorf("took %s", time.Since(start))
			}
			files, _ := filepath.Glob(filepath.Join(debug, "*"))
			if tt.capture {
				if len(files) != 2 || !strings.Contains(err.Error(), debug) {
					t.Fatalf("captures %v, error %q: want a screenshot and the HTML, named in the error", files, err)
				}
				for _, f := range files {
					b, _ := os.ReadFile(f)
					if strings.Contains(string(b), password) {
						t.Errorf("%s holds the password", f)
					}
					if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
						t.Errorf("%s mode %o", f, fi.Mode().Perm())
					}
				}
			}
		})
	}
}

func TestPositivelyEmptyTeam(t *testing.T) {
	needChromium(t)
	sc := stonlytest.Generate(0, "New Team")
	srv := stonlytest.NewServer(sc)
	defer srv.Close()
	srv.SetVariant(fast(stonlytest.Variant{}))
	res, err := newCollector(t, srv, t.TempDir()).Collect(context.Background(), collectors.Request{})
	if err != nil || !res.Completeness.Complete {
		t.Fatalf("a team whose page says it has no members is complete: %v", err)
	}
}

func TestUnknownRoleKeptVerbatim(t *testing.T) {
	needChromium(t)
	sc := stonlytest.Generate(5, "Support Center")
	sc.Teams[0].Members[2].Role = "Content Editor"
	srv := stonlytest.NewServer(sc)
	defer srv.Close()
	srv.SetVariant(fast(stonlytest.Variant{}))
	res, err := newCollector(t, srv, t.TempDir()).Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range res.Accounts {
		found = found || a.Role == "Content Editor"
	}
	if !found || len(res.Completeness.Warnings) != 1 || !strings.Contains(res.Completeness.Warnings[0], `"Content Editor"`) {
		t.Fatalf("role kept %v, warnings %v", found, res.Completeness.Warnings)
	}
}

func TestHostileNamesAreData(t *testing.T) {
	needChromium(t)
	sc := stonlytest.Generate(3, `<img src=x onerror=alert(1)> Team`)
	sc.Teams[0].Members[1].Name = `<script>window.pwned=1</script>Robert'); DROP TABLE--`
	sc.Teams[0].Members[2].Name = "=HYPERLINK(\"http://evil\")\u202e"
	srv := stonlytest.NewServer(sc)
	defer srv.Close()
	srv.SetVariant(fast(stonlytest.Variant{}))
	res, err := newCollector(t, srv, t.TempDir()).Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Accounts[0].TeamName, "<img") || !strings.Contains(res.Accounts[1].DisplayName, "<script>") {
		t.Errorf("hostile text must arrive as text: %q, %q", res.Accounts[0].TeamName, res.Accounts[1].DisplayName)
	}
}

func TestBlocksAssetsAndAttachesToARunningBrowser(t *testing.T) {
	needChromium(t)
	srv := stonlytest.NewServer(stonlytest.Generate(12, "Support Center"))
	defer srv.Close()
	srv.SetVariant(fast(stonlytest.Variant{}))
	res, err := newCollector(t, srv, t.TempDir()).Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Assets(); n != 0 {
		t.Errorf("%d image or font requests: they should be blocked", n)
	}
	// A browser started elsewhere (a sidecar), reached through its DevTools websocket.
	path, _ := ChromiumPath("")
	// Not t.TempDir: Chromium's helper processes can outlive a killed
	// parent for a moment and still write there; clean up best-effort.
	profile, _ := os.MkdirTemp("", "idgraph-remote-browser-")
	defer os.RemoveAll(profile)
	cmd := exec.Command(path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--user-data-dir="+profile, "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // kill the browser and its helpers together
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() }()
	ws := ""
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if _, after, ok := strings.Cut(sc.Text(), "DevTools listening on "); ok {
			ws = strings.TrimSpace(after)
			break
		}
	}
	if ws == "" {
		t.Fatal("the browser printed no DevTools address")
	}
	go io.Copy(io.Discard, stderr)
	start := time.Now()
	res2, err := newCollector(t, srv, t.TempDir(), func(c *Config) { c.BrowserURL = ws }).Collect(context.Background(), collectors.Request{})
	t.Logf("through the remote browser in %s", time.Since(start))
	if err != nil || res2.Completeness.Records != res.Completeness.Records {
		t.Fatalf("through the remote browser: %v, %d records (want %d)", err, res2.Completeness.Records, res.Completeness.Records)
	}
}

// TestTabsGiveTheSameResult reads five teams in one tab and in three: the
// accounts, their order and the counts must not depend on which tab
// finished first.
// Hidden tabs (they share one window) must page too, infinite scroll
// included.
func TestTabsGiveTheSameResult(t *testing.T) {
	needChromium(t)
	for _, paging := range []string{"loadmore", "scroll"} {
		t.Run(paging, func(t *testing.T) {
			srv := stonlytest.NewServer(stonlytest.Generate(100, "Support Center", "Sales", "Onboarding", "Docs", "Success"))
			defer srv.Close()
			srv.SetVariant(fast(stonlytest.Variant{Paging: paging, PageSize: 6}))
			var keys [2][]string
			var pages [2]int
			for i, tabs := range []int{1, 3} {
				res, err := newCollector(t, srv, t.TempDir(), func(c *Config) { c.Tabs = tabs }).Collect(context.Background(), collectors.Request{})
				if err != nil || !res.Completeness.Complete {
					t.Fatalf("tabs=%d: err %v, %+v", tabs, err, res.Completeness)
				}
				for _, a := range res.Accounts {
					keys[i] = append(keys[i], a.Key())
				}
				pages[i] = res.Completeness.Pages
			}
			// With infinite scroll the app may load twice between two
			// looks, so only "Load more" has a fixed number of loads.
			if len(keys[0]) != 110 || !slices.Equal(keys[0], keys[1]) || (paging == "loadmore" && pages[0] != pages[1]) {
				t.Errorf("one tab read %d accounts in %d pages, three tabs %d in %d; the lists differ: %v",
					len(keys[0]), pages[0], len(keys[1]), pages[1], !slices.Equal(keys[0], keys[1]))
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no url", Config{Email: "a@b.c", PasswordEnv: "P"}, "url is required"},
		{"relative url", Config{URL: "app.stonly.com", Email: "a@b.c", PasswordEnv: "P"}, "not an absolute http(s) URL"},
		{"two secrets", Config{URL: "https://app.stonly.com", Email: "a@b.c", PasswordEnv: "P", SessionCookieEnv: "S"}, "exclude each other"},
		{"no secret", Config{URL: "https://app.stonly.com"}, "password_env (with email) or session_cookie_env is required"},
		{"password without email", Config{URL: "https://app.stonly.com", PasswordEnv: "P"}, "email is required"},
		{"too many tabs", Config{URL: "https://app.stonly.com", Email: "a@b.c", PasswordEnv: "P", Tabs: 40}, "tabs is 40; give 1 to 16"},
		{"negative tabs", Config{URL: "https://app.stonly.com", Email: "a@b.c", PasswordEnv: "P", Tabs: -1}, "tabs is -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCollector(tt.cfg, collectors.Env{File: "idgraph.yaml", Getenv: func(string) string { return "secret-value" }})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "idgraph.yaml") {
				t.Errorf("err = %v, want it to name idgraph.yaml and say %q", err, tt.want)
			}
		})
	}
}
