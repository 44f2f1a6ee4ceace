package stonly

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/stonly/stonlytest"
)

// The tests in this file are the Stonly cases of issue 14 ("Fail closed"):
// each reproduces, through Chromium against the replica, a page on which
// the collector once read less than the page offered and called it
// complete, or left something behind.

func collect(t *testing.T, srv *stonlytest.Server, debug string, mods ...func(*Config)) (*collectors.Result, error) {
	t.Helper()
	return newCollector(t, srv, debug, mods...).Collect(context.Background(), collectors.Request{})
}

// tally counts the accounts of a result by status.
func tally(res *collectors.Result) (members, invites int) {
	for _, a := range res.Accounts {
		switch a.Status {
		case collectors.StatusActive:
			members++
		case collectors.StatusInvited:
			invites++
		}
	}
	return members, invites
}

// TestTeamDiscovery: with teams: [] every team the account sees is read,
// however the page offers them, and each is recorded as a part.
func TestTeamDiscovery(t *testing.T) {
	needChromium(t)
	tests := []struct {
		name string
		v    stonlytest.Variant
	}{
		{"team links in a menu", stonlytest.Variant{}},
		{"switcher renders 1.2s after the page", stonlytest.Variant{Switcher: "late"}},
		{"switcher menu must be opened", stonlytest.Variant{Switcher: "menu"}},
		{"other /app links are not teams", stonlytest.Variant{ForeignLinks: true}},
		{"late switcher beside other /app links", stonlytest.Variant{Switcher: "late", ForeignLinks: true}},
		{"closed menu beside other /app links", stonlytest.Variant{Switcher: "menu", ForeignLinks: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := stonlytest.Generate(60, "Support Center", "Sales", "Onboarding")
			srv := stonlytest.NewServer(sc)
			defer srv.Close()
			srv.SetVariant(fast(tt.v))
			res, err := collect(t, srv, t.TempDir())
			if err != nil || !res.Completeness.Complete {
				t.Fatalf("err %v, %+v", err, res.Completeness)
			}
			if m, inv := tally(res); m != 60 || inv != 6 {
				t.Errorf("members %d, invitations %d; want 60 and 6", m, inv)
			}
			parts := res.Completeness.Parts
			if len(parts) != len(sc.Teams) {
				t.Fatalf("parts %+v: want one per team, %d", parts, len(sc.Teams))
			}
			for i, p := range parts {
				want := sc.Teams[i]
				if p.Kind != "team" || p.ID != want.ID || p.Name != want.Name || p.Records != 20 || p.Shown != 20 ||
					!strings.Contains(p.Fix, "give it-bot@acme.com the Admin role in team "+want.Name+" again") {
					t.Errorf("part %d = %+v, want team %s (%s) with 20 rows read and shown, and a fix", i, p, want.Name, want.ID)
				}
			}
		})
	}
}

// TestNoTeamList: a page on which no team list ever appears is not "one
// team": the wait is bounded and the source is incomplete.
func TestNoTeamList(t *testing.T) {
	needChromium(t)
	sc := stonlytest.Generate(40, "Support Center", "Sales")
	srv := stonlytest.NewServer(sc)
	defer srv.Close()
	srv.SetVariant(fast(stonlytest.Variant{Switcher: "none", ForeignLinks: true}))
	res, err := collect(t, srv, t.TempDir(), func(c *Config) { c.StepTimeout = 8 * time.Second })
	if err == nil || res.Completeness.Complete {
		t.Fatalf("want an incomplete source, got err %v, %+v", err, res.Completeness)
	}
	if !strings.Contains(err.Error(), "no team switcher or team links appeared") || !strings.Contains(err.Error(), "stonly.step_timeout") {
		t.Errorf("error %q should say that no team list appeared within stonly.step_timeout", err)
	}
	for _, p := range res.Completeness.Parts {
		if p.ID != sc.Teams[0].ID {
			t.Errorf("part %+v: only the landing team can have been read", p)
		}
	}
}

// TestTeamNotReadable: a team the account sees but cannot manage (it lost
// the Admin role there) makes the source incomplete, naming the team and
// the fix; the other teams are read and recorded.
func TestTeamNotReadable(t *testing.T) {
	needChromium(t)
	for _, access := range []string{"denied", "hidden"} {
		t.Run(access, func(t *testing.T) {
			sc := stonlytest.Generate(60, "Support Center", "Sales", "Onboarding")
			sc.Teams[1].Access = access
			srv := stonlytest.NewServer(sc)
			defer srv.Close()
			srv.SetVariant(fast(stonlytest.Variant{}))
			res, err := collect(t, srv, t.TempDir(), func(c *Config) { c.StepTimeout = 8 * time.Second })
			if err == nil || res.Completeness.Complete {
				t.Fatalf("want an incomplete source, got err %v, %+v", err, res.Completeness)
			}
			if !strings.Contains(err.Error(), "team Sales") || !strings.Contains(err.Error(), "give it-bot@acme.com the Admin role in team Sales again") {
				t.Errorf("error %q should name team Sales and the fix", err)
			}
			if access == "denied" && !strings.Contains(err.Error(), "visible but its members cannot be read") {
				t.Errorf("error %q should say the team is visible but not readable", err)
			}
			var ids []string
			for _, p := range res.Completeness.Parts {
				ids = append(ids, p.ID)
			}
			if strings.Join(ids, ",") != sc.Teams[0].ID+","+sc.Teams[2].ID {
				t.Errorf("parts %v, want the two readable teams", ids)
			}
		})
	}
}

// TestEmptinessIsJudgedOnTheList: a team name with "Members" in it once
// made every team look empty while its rows were still rendering, and a
// fast render lost the invitations that arrived after the members.
func TestEmptinessIsJudgedOnTheList(t *testing.T) {
	needChromium(t)
	tests := []struct {
		name           string
		members        int
		v              stonlytest.Variant
		wantM, wantInv int
	}{
		{"slow staged render", 40, stonlytest.Variant{Staged: true, RenderDelay: 3 * time.Second}, 40, 4},
		{"fast render, invitations later", 40, stonlytest.Variant{Staged: true, RenderDelay: 100 * time.Millisecond, InviteDelay: 700 * time.Millisecond}, 40, 4},
		{"a truly empty team", 0, stonlytest.Variant{Staged: true, RenderDelay: 600 * time.Millisecond}, 0, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := stonlytest.Generate(tt.members, "Latino Members", "Support Center")
			srv := stonlytest.NewServer(sc)
			defer srv.Close()
			srv.SetVariant(fast(tt.v))
			res, err := collect(t, srv, t.TempDir())
			if err != nil || !res.Completeness.Complete {
				t.Fatalf("err %v, %+v", err, res.Completeness)
			}
			if m, inv := tally(res); m != tt.wantM || inv != tt.wantInv {
				t.Errorf("members %d, invitations %d; want %d and %d", m, inv, tt.wantM, tt.wantInv)
			}
		})
	}
}

// TestRoleCells: roles shown without plain text, or with decoration, are
// read as the role they show; a cell that shows nothing is a layout change.
func TestRoleCells(t *testing.T) {
	needChromium(t)
	tests := []struct {
		name string
		v    stonlytest.Variant
	}{
		{"icon with aria-label", stonlytest.Variant{RoleStyle: "icon"}},
		{"icon with aria-label in a grid", stonlytest.Variant{RoleStyle: "icon", Layout: "grid"}},
		{"title", stonlytest.Variant{RoleStyle: "title"}},
		{"CSS ::before content", stonlytest.Variant{RoleStyle: "css", Layout: "ariatable"}},
		{"menu arrows and padding", stonlytest.Variant{RoleStyle: "decorated"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := stonlytest.Generate(40, "Support Center", "Sales")
			srv := stonlytest.NewServer(sc)
			defer srv.Close()
			srv.SetVariant(fast(tt.v))
			res, err := collect(t, srv, t.TempDir())
			if err != nil || !res.Completeness.Complete {
				t.Fatalf("err %v, %+v", err, res.Completeness)
			}
			want := map[string]string{}
			for _, tm := range sc.Teams {
				for _, m := range tm.Members {
					want[tm.ID+":"+m.Email] = m.Role
				}
				for _, i := range tm.Invitations {
					want[tm.ID+":invite:"+i.Email] = i.Role
				}
			}
			for _, a := range res.Accounts {
				if w := want[a.Team+":"+a.ID]; a.Role != w {
					t.Errorf("%s in %s: role %q, want %q", a.Email, a.Team, a.Role, w)
				}
			}
			if len(res.Accounts) != len(want) || len(res.Completeness.Warnings) > 0 {
				t.Errorf("%d accounts (want %d), warnings %v", len(res.Accounts), len(want), res.Completeness.Warnings)
			}
		})
	}
	t.Run("empty role cell", func(t *testing.T) {
		srv := stonlytest.NewServer(stonlytest.Generate(10, "Support Center"))
		defer srv.Close()
		srv.SetVariant(fast(stonlytest.Variant{RoleStyle: "blank"}))
		debug := t.TempDir()
		res, err := collect(t, srv, debug)
		if err == nil || res.Completeness.Complete {
			t.Fatalf("want an incomplete source, got err %v, %+v", err, res.Completeness)
		}
		if !strings.Contains(err.Error(), "layout changed") || !strings.Contains(err.Error(), "Role cell") || !strings.Contains(err.Error(), "empty or unreadable") {
			t.Errorf("error %q should say the role cells are unreadable, a layout change", err)
		}
		if files, _ := filepath.Glob(filepath.Join(debug, "*")); len(files) != 2 {
			t.Errorf("captures %v, want a screenshot and the HTML", files)
		}
	})
}

// TestCleanRole strips decoration and keeps words verbatim.
func TestCleanRole(t *testing.T) {
	for in, want := range map[string]string{
		"Admin ▾": "Admin", "Admin ⌄": "Admin", "  Member \n": "Member", "▼ Owner": "Owner", "Content  Editor ▾": "Content Editor",
		"Admin (you)": "Admin (you)", "": "", "▾": "",
	} {
		if got := cleanRole(in); got != want {
			t.Errorf("cleanRole(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestInvitationRowsAndVirtualLists: invitations listed among the members
// with a status column are invitations; a list that renders only the rows
// in view is read whole; rows read must match the count shown.
func TestInvitationRowsAndVirtualLists(t *testing.T) {
	needChromium(t)
	tests := []struct {
		name           string
		members        int
		v              stonlytest.Variant
		wantM, wantInv int
		errHas         string
	}{
		{"invitations as rows with a status", 60, stonlytest.Variant{InviteRows: true}, 60, 4, ""},
		{"invitations as rows of a grid", 60, stonlytest.Variant{InviteRows: true, Layout: "grid"}, 60, 4, ""},
		{"virtualised table", 300, stonlytest.Variant{Virtual: true}, 300, 4, ""},
		{"virtualised grid", 300, stonlytest.Variant{Virtual: true, Layout: "grid"}, 300, 4, ""},
		{"virtualised, no count shown", 300, stonlytest.Variant{Virtual: true, HideCount: true}, 300, 4, ""},
		{"virtualised with invitation rows", 200, stonlytest.Variant{Virtual: true, InviteRows: true, Layout: "ariatable"}, 200, 4, ""},
		{"virtualised, count differs", 100, stonlytest.Variant{Virtual: true, CountOffset: 1}, 0, 0, "the page says 51 members but 50 rows were read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := stonlytest.Generate(tt.members, "Support Center", "Sales")
			srv := stonlytest.NewServer(sc)
			defer srv.Close()
			srv.SetVariant(fast(tt.v))
			res, err := collect(t, srv, t.TempDir())
			if tt.errHas != "" {
				if err == nil || res.Completeness.Complete || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("want an incomplete source saying %q, got err %v", tt.errHas, err)
				}
				return
			}
			if err != nil || !res.Completeness.Complete {
				t.Fatalf("err %v, %+v", err, res.Completeness)
			}
			if m, inv := tally(res); m != tt.wantM || inv != tt.wantInv {
				t.Errorf("members %d, invitations %d; want %d and %d", m, inv, tt.wantM, tt.wantInv)
			}
			keys := map[string]bool{}
			for _, a := range res.Accounts {
				if keys[a.Key()] {
					t.Errorf("account %s read twice", a.Key())
				}
				keys[a.Key()] = true
				if a.Status == collectors.StatusInvited && !strings.HasPrefix(a.ID, "invite:") {
					t.Errorf("invitation %+v has a member's id", a)
				}
				if tt.v.InviteRows && a.Status == collectors.StatusInvited && a.RawStatus != "Invited" && a.RawStatus != "Pending" {
					t.Errorf("invitation %s keeps raw status %q, want the page's word", a.Email, a.RawStatus)
				}
			}
			for _, p := range res.Completeness.Parts {
				want := tt.members / 2
				if tt.v.InviteRows {
					want += 2 // the page counts the invitation rows
				}
				if p.Records != want || (!tt.v.HideCount && p.Shown != want) {
					t.Errorf("part %+v: want %d rows read and shown", p, want)
				}
			}
		})
	}
}

var jwtShaped = regexp.MustCompile(`eyJ[\w-]+\.[\w-]+\.[\w-]+`)

// TestNoLiveSessionLeft: a capture holds none of the app's tokens, and
// the session is signed out on the server when Collect returns, whether
// the read succeeded or not.
func TestNoLiveSessionLeft(t *testing.T) {
	needChromium(t)
	for _, tt := range []struct {
		name    string
		v       stonlytest.Variant
		capture bool
	}{
		{"complete read", stonlytest.Variant{}, false},
		{"layout change with a capture", stonlytest.Variant{Renamed: true}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := stonlytest.Generate(10, "Support Center")
			srv := stonlytest.NewServer(sc)
			defer srv.Close()
			srv.SetVariant(fast(tt.v))
			debug := t.TempDir()
			c := newCollector(t, srv, debug)
			before := len(srv.Issued())
			res, err := c.Collect(context.Background(), collectors.Request{})
			if tt.capture == (err == nil) {
				t.Fatalf("err %v", err)
			}
			files, _ := filepath.Glob(filepath.Join(debug, "*.html"))
			if tt.capture && len(files) != 1 {
				t.Fatalf("captures %v", files)
			}
			for _, f := range files {
				b, _ := os.ReadFile(f)
				if !bytes.Contains(b, []byte("__APP_STATE__")) {
					t.Errorf("%s lacks the page state: the test proves nothing", f)
				}
				for _, sec := range srv.Secrets() {
					if bytes.Contains(b, []byte(sec)) {
						t.Errorf("%s holds the secret %.12s…", f, sec)
					}
				}
				if m := jwtShaped.Find(b); m != nil {
					t.Errorf("%s holds a JWT-shaped string %.20s…", f, m)
				}
			}
			issued := srv.Issued()[before:]
			if len(issued) != 1 {
				t.Fatalf("%d sessions opened, want 1", len(issued))
			}
			for _, tok := range issued {
				req, _ := http.NewRequest("GET", srv.URL+"/api/v1/teams/"+sc.Teams[0].ID+"/members", nil)
				req.AddCookie(&http.Cookie{Name: stonlytest.CookieName, Value: tok})
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if srv.SessionValid(tok) || resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("the session of the read still works after Collect (status %d)", resp.StatusCode)
				}
			}
			for _, w := range res.Completeness.Warnings {
				if strings.Contains(w, "signing out") {
					t.Errorf("warning %q", w)
				}
			}
		})
	}
}

// TestBrowserIsGoneWhenCollectReturns: no process of the browser and no
// folder of it (profile, org.chromium.Chromium.*) is left when Collect
// returns. The browser's processes are told apart from other browsers on
// the machine by the private TMPDIR they inherit.
func TestBrowserIsGoneWhenCollectReturns(t *testing.T) {
	needChromium(t)
	srv := stonlytest.NewServer(stonlytest.Generate(10, "Support Center"))
	defer srv.Close()
	srv.SetVariant(fast(stonlytest.Variant{}))
	c := newCollector(t, srv, t.TempDir())
	tmp, err := os.MkdirTemp("", "idg-tmp-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	t.Setenv("TMPDIR", tmp)
	for _, failing := range []bool{false, true} {
		if failing {
			srv.SetVariant(fast(stonlytest.Variant{Renamed: true}))
		}
		res, err := c.Collect(context.Background(), collectors.Request{})
		if failing == (err == nil) {
			t.Fatalf("failing %v: err %v, %+v", failing, err, res.Completeness)
		}
		if pids := processesIn(tmp); len(pids) > 0 {
			t.Errorf("failing %v: browser processes %v still run after Collect", failing, pids)
		}
		entries, _ := os.ReadDir(tmp)
		var left []string
		for _, e := range entries {
			left = append(left, e.Name())
		}
		if len(left) > 0 {
			t.Errorf("failing %v: left in the temporary folder: %v", failing, left)
		}
	}
}

// processesIn lists the live processes whose command line or environment
// names dir.
func processesIn(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if stat, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			if i := bytes.LastIndexByte(stat, ')'); i > 0 && len(stat) > i+2 && (stat[i+2] == 'Z' || stat[i+2] == 'X') {
				continue
			}
		}
		env, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
		cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if bytes.Contains(env, []byte("TMPDIR="+dir)) || bytes.Contains(cmd, []byte(dir)) {
			out = append(out, pid)
		}
	}
	return out
}

// TestNetworkErrorsSayNetwork: a Stonly URL that cannot be reached is a
// network problem with stonly.url, never "check stonly.email" (issue 19).
func TestNetworkErrorsSayNetwork(t *testing.T) {
	needChromium(t)
	refused := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		u := "http://" + ln.Addr().String()
		ln.Close()
		return u
	}
	tlsBad := func(t *testing.T) string {
		ts := httptest.NewTLSServer(http.NotFoundHandler()) // a certificate no browser trusts
		t.Cleanup(ts.Close)
		return ts.URL
	}
	silent := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { conn.Close() }) // accepted, never answered
			}
		}()
		return "http://" + ln.Addr().String()
	}
	tests := []struct {
		name   string
		url    func(*testing.T) string
		errHas string
	}{
		{"connection refused", refused, "ERR_CONNECTION_REFUSED"},
		{"untrusted TLS certificate", tlsBad, "TLS certificate"},
		{"no answer", silent, "no answer in time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := stonlytest.NewServer(stonlytest.Generate(1, "Support Center"))
			defer srv.Close()
			u := tt.url(t)
			c := newCollector(t, srv, t.TempDir(), func(c *Config) { c.URL = u; c.StepTimeout = 2 * time.Second })
			res, err := c.Collect(context.Background(), collectors.Request{})
			if err == nil || res.Completeness.Complete {
				t.Fatalf("want an incomplete source, got %v", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "a network problem with stonly.url") || !strings.Contains(msg, tt.errHas) || strings.Contains(msg, "stonly.email") || strings.Contains(msg, "password") {
				t.Errorf("error %q should blame the network (%s), not the credentials", msg, tt.errHas)
			}
			checks := c.Check(context.Background())
			last := checks[len(checks)-1]
			if last.OK || strings.Contains(last.Fix, "stonly.email") || !strings.Contains(last.Fix, "network") {
				t.Errorf("doctor check %+v should fail with a network fix", last)
			}
		})
	}
}

// TestClassify covers the codes that a test cannot provoke without a
// network (a name that does not resolve needs a resolver).
func TestClassify(t *testing.T) {
	c := &Collector{cfg: Config{StepTimeout: time.Second}}
	for code, kind := range map[string]string{
		"net::ERR_NAME_NOT_RESOLVED": "dns", "net::ERR_CONNECTION_REFUSED": "connection", "net::ERR_CERT_DATE_INVALID": "tls",
		"net::ERR_SSL_PROTOCOL_ERROR": "tls", "net::ERR_CONNECTION_TIMED_OUT": "timeout", "net::ERR_ADDRESS_UNREACHABLE": "connection",
		"net::ERR_ABORTED": "",
	} {
		err := c.classify(context.Background(), &chromedp.LoadError{ErrorText: code}, "https://app.stonly.com/login")
		var ne *NetError
		if got := errors.As(err, &ne); got != (kind != "") || got && ne.Kind != kind {
			t.Errorf("%s: %v, want kind %q", code, err, kind)
		}
	}
}

// TestScrub: the generic scrubbing removes tokens wherever the page keeps
// them, and leaves what someone fixing the selectors needs.
func TestScrub(t *testing.T) {
	c := &Collector{password: "correct horse battery staple", cookie: ""}
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzaWQiOiJhYmMxMjMifQ.c2lnbmF0dXJlLTEyMw"
	tests := []struct {
		name, in string
		gone     []string
		kept     []string
	}{
		{"JWT in page state", `<script>window.__APP_STATE__={"session":"` + jwt + `"}</script>`, []string{jwt, "eyJ"}, []string{"__APP_STATE__", `"session":`}},
		{"CSRF token", `<meta name="csrf-token" content="Xk9fQ2lWc0dPbTRzY2hXbnB6dHRYb0l1eGRyM0VzTlo">`, []string{"Xk9fQ2lWc0dPbTRzY2hXbnB6dHRYb0l1eGRyM0VzTlo"}, []string{"csrf-token"}},
		{"hex session id", `{"sid":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"}`, []string{"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"}, []string{"sid"}},
		{"standard base64", `token="q83vEjRWeJq83vEjRWeJq83vEjRWeJ+/q83vEjRWeJ=="`, []string{"q83vEjRWeJq83vEjRWeJq83vEjRWeJ+/q83vEjRWeJ=="}, []string{"token="}},
		{"Authorization header", `headers: {Authorization: "Bearer abc.def-123"}`, []string{"abc.def-123"}, []string{"Authorization"}},
		{"cookie text", `document.cookie = "stonly_session=s3cr3t; theme=dark"`, []string{"s3cr3t", "theme=dark"}, []string{"document.cookie"}},
		{"the password", `<p>correct horse battery staple</p>`, []string{"correct horse battery staple"}, []string{"<p>"}},
		{"input values", `<input type="hidden" name="csrf" value="short">`, []string{"short"}, []string{`name="csrf"`}},
		{"what a fix needs stays", `<a href="/app/general/T001x3/settings/team">Team Management</a><td>member12@acme.com</td><div class="c-ab12cdtbl">internationalisation-and-localisation-settings</div>`,
			nil, []string{"/app/general/T001x3/settings/team", "member12@acme.com", "c-ab12cdtbl", "internationalisation-and-localisation-settings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.scrub(tt.in, "s3cr3t-cookie-value")
			for _, g := range tt.gone {
				if strings.Contains(got, g) {
					t.Errorf("scrub(%q) = %q still holds %q", tt.in, got, g)
				}
			}
			for _, k := range tt.kept {
				if !strings.Contains(got, k) {
					t.Errorf("scrub(%q) = %q lost %q", tt.in, got, k)
				}
			}
		})
	}
}
