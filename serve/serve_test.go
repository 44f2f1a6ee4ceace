package serve_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idgraph/idgraph/pipeline/pipelinetest"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/serve"
	"github.com/idgraph/idgraph/store"
)

const (
	token         = "a-bearer-token-for-tests-0123456789"
	sessionSecret = "a-session-secret-for-tests-0123456789abcdef"
)

// logBuffer collects the service's log lines; handlers write from many
// goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type fixture struct {
	t      *testing.T
	dir    string
	st     *store.Store
	srv    *serve.Server
	http   *httptest.Server
	now    time.Time
	stonly string
	gate   chan struct{} // when set, a run waits until it is closed
	run    func(context.Context) (*serve.RunResult, error)
	logs   logBuffer
}

func newFixture(t *testing.T) *fixture {
	q := pipelinetest.New(t)
	st := q.Store(t)
	f := &fixture{t: t, dir: q.Dir, st: st, now: time.Now(), stonly: q.Stonly}
	run := func(ctx context.Context) (*serve.RunResult, error) {
		if f.gate != nil {
			<-f.gate
		}
		out, err := q.Run(ctx, st)
		if err != nil {
			return nil, err
		}
		return &serve.RunResult{Snapshot: out.Snapshot, Incomplete: out.Incomplete}, nil
	}
	f.run = run
	f.srv = f.server(nil)
	if err := f.srv.RunNow(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	f.http = httptest.NewServer(f.srv.Handler())
	t.Cleanup(f.http.Close)
	return f
}

// server builds a service over the fixture's store, as a (re)start of
// serve would; edit adjusts its options.
func (f *fixture) server(edit func(*serve.Options)) *serve.Server {
	f.t.Helper()
	o := serve.Options{Store: f.st, Run: f.run, Token: token, Version: "test",
		Users:         map[string]string{"alice@acme.com": "alice-password", "bob@acme.com": "bob-password", "dave@acme.com": "dave-password"},
		SessionSecret: []byte(sessionSecret), Logger: slog.New(slog.NewTextHandler(&f.logs, nil)),
		Now: func() time.Time { return f.now }}
	if edit != nil {
		edit(&o)
	}
	srv, err := serve.New(context.Background(), o)
	if err != nil {
		f.t.Fatal(err)
	}
	return srv
}

func (f *fixture) do(method, path, auth string, body any) (int, string) {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, f.http.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch {
	case auth == "token":
		req.Header.Set("Authorization", "Bearer "+token)
	case strings.Contains(auth, ":"):
		u, p, _ := strings.Cut(auth, ":")
		req.SetBasicAuth(u, p)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAuthentication(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		path, auth string
		want       int
	}{
		{"/healthz", "", 200}, {"/readyz", "", 200},
		{"/api/v1/findings", "", 401}, {"/metrics", "", 401}, {"/api/v1/snapshots", "alice@acme.com:wrong-password", 401},
		{"/api/v1/findings", "token", 200}, {"/api/v1/findings", "alice@acme.com:alice-password", 200}, {"/metrics", "token", 200},
		{"/findings", "", 303}, {"/findings", "bob@acme.com:bob-password", 200}, {"/download/accounts.csv", "", 303},
	} {
		if code, body := f.do("GET", tt.path, tt.auth, nil); code != tt.want {
			t.Errorf("GET %s as %q: %d, want %d: %.200s", tt.path, tt.auth, code, tt.want, body)
		}
	}
}

type item struct {
	Key, Kind, Email, Status string
	Decision                 *store.Decision
	Status2                  string `json:"review_status"`
}

func (f *fixture) findings(query string) []item {
	f.t.Helper()
	code, body := f.do("GET", "/api/v1/findings"+query, "token", nil)
	if code != 200 {
		f.t.Fatalf("%d %s", code, body)
	}
	var items []item
	if err := json.Unmarshal([]byte(body), &items); err != nil {
		f.t.Fatal(err)
	}
	return items
}

func TestDecisions(t *testing.T) {
	f := newFixture(t)
	all := f.findings("")
	var bob, carol string
	for _, it := range all {
		switch {
		case it.Kind == "orphaned" && it.Email == "bob@acme.com":
			bob = it.Key
		case it.Kind == "unassigned" && it.Email == "carol@acme.com":
			carol = it.Key
		}
	}
	if bob == "" || carol == "" {
		t.Fatalf("fixture findings missing: %+v", all)
	}
	alice, bobAuth, dave := "alice@acme.com:alice-password", "bob@acme.com:bob-password", "dave@acme.com:dave-password"
	expires := f.now.Add(30 * 24 * time.Hour).Format("2006-01-02")
	for _, tt := range []struct {
		name string
		auth string
		req  serve.DecisionRequest
		want int
		msg  string
	}{
		{"approval needs an expiry", alice, serve.DecisionRequest{Finding: carol, Decision: "approve", Justification: "contractor"}, 400, "expiry"},
		{"a justification is required", alice, serve.DecisionRequest{Finding: carol, Decision: "exception"}, 400, "justification"},
		{"unknown decision", alice, serve.DecisionRequest{Finding: carol, Decision: "ignore", Justification: "x"}, 400, "approve, revoke, modify or exception"},
		{"no decision", alice, serve.DecisionRequest{Finding: carol, Justification: "x"}, 400, "choose a decision"},
		{"a ten-year approval", alice, serve.DecisionRequest{Finding: carol, Decision: "approve", Justification: "forever", Expires: f.now.AddDate(10, 0, 0).Format("2006-01-02")}, 400, "beyond the longest allowed"},
		{"an exception needs an end", alice, serve.DecisionRequest{Finding: carol, Decision: "exception", Justification: "service account"}, 400, "end date"},
		{"modify needs a role", alice, serve.DecisionRequest{Finding: carol, Decision: "modify", Justification: "less"}, 400, "role to change to"},
		{"nothing to confirm", dave, serve.DecisionRequest{Finding: carol, Confirm: true}, 400, "no decision waiting"},
		{"the token is no reviewer", "token", serve.DecisionRequest{Finding: carol, Decision: "revoke", Justification: "x"}, 400, "named reviewer"},
		{"nobody approves their own finding", bobAuth, serve.DecisionRequest{Finding: bob, Decision: "approve", Justification: "I still need it", Expires: expires}, 403, "their own access"},
		{"nobody revokes their own finding", bobAuth, serve.DecisionRequest{Finding: bob, Decision: "revoke", Justification: "I left"}, 403, "their own access"},
		{"unknown finding", alice, serve.DecisionRequest{Finding: "nope", Decision: "revoke", Justification: "x"}, 404, "no finding"},
		{"approve", alice, serve.DecisionRequest{Finding: carol, Decision: "approve", Justification: "contractor until March", Expires: expires}, 201, ""},
		{"revoke an admin: pending", alice, serve.DecisionRequest{Finding: bob, Decision: "revoke", Justification: "left in October"}, 201, `"needs_second_reviewer": true`},
		{"no confirming one's own decision", alice, serve.DecisionRequest{Finding: bob, Confirm: true}, 400, "another person"},
		{"the subject cannot confirm", bobAuth, serve.DecisionRequest{Finding: bob, Confirm: true}, 403, "their own access"},
		{"a confirmation carries nothing else", dave, serve.DecisionRequest{Finding: bob, Confirm: true, Decision: "approve"}, 400, "names the finding only"},
		{"four eyes", dave, serve.DecisionRequest{Finding: bob, Confirm: true}, 201, `"confirmed_by": "dave@acme.com"`},
		{"confirmed once only", dave, serve.DecisionRequest{Finding: bob, Confirm: true}, 400, "no decision waiting"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, body := f.do("POST", "/api/v1/decisions", tt.auth, tt.req)
			if code != tt.want || !strings.Contains(body, tt.msg) {
				t.Fatalf("%d %s, want %d with %q", code, body, tt.want, tt.msg)
			}
		})
	}
	// Decisions follow the findings into the next snapshot.
	if err := f.srv.RunNow(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	approved := f.findings("?decision=approve")
	if len(approved) != 1 || approved[0].Key != carol || approved[0].Decision.Reviewer != "alice@acme.com" || approved[0].Status2 != "approved" {
		t.Fatalf("approved in snapshot 2: %+v", approved)
	}
	// The approval expires.
	f.now = f.now.Add(31 * 24 * time.Hour)
	if exp := f.findings("?decision=expired"); len(exp) != 1 || exp[0].Status2 != "approval expired" {
		t.Fatalf("expired: %+v", exp)
	}
	// The revoke is pending until the access is gone, then completed.
	d, _ := report.Load(context.Background(), f.st, 0, "test")
	if len(d.Remediations) != 1 || d.Remediations[0].Done {
		t.Fatalf("remediation should be pending: %+v", d.Remediations)
	}
	rows, _, _, _ := report.AccountsCSV(d, report.CSVOptions{})
	if !strings.Contains(string(rows), "revoke,alice@acme.com,") || !strings.Contains(string(rows), "left in October,,pending") {
		t.Errorf("the auditor CSV does not show the decision:\n%s", rows)
	}
	b, _ := os.ReadFile(f.stonly)
	var kept []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "bob@acme.com,") {
			kept = append(kept, l)
		}
	}
	os.WriteFile(f.stonly, []byte(strings.Join(kept, "\n")), 0o600)
	if err := f.srv.RunNow(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	d, _ = report.Load(context.Background(), f.st, 0, "test")
	if len(d.Remediations) != 1 || !d.Remediations[0].Done {
		t.Fatalf("remediation should be completed: %+v", d.Remediations)
	}
	var html strings.Builder
	report.WriteHTML(&html, d)
	if !strings.Contains(html.String(), "completed") {
		t.Error("the report does not show the completed remediation")
	}
}

func TestRunsNeverOverlapAndReadsDuringARun(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan string, 100)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if code, body := f.do("GET", "/api/v1/findings", "token", nil); code != 200 {
					errs <- fmt.Sprintf("%d %s", code, body)
					return
				}
			}
		}()
	}
	f.gate = make(chan struct{})
	done := make(chan error)
	go func() { done <- f.srv.RunNow(context.Background(), "a") }()
	for !f.srv.Running() {
		time.Sleep(time.Millisecond)
	}
	if err := f.srv.RunNow(context.Background(), "b"); err != serve.ErrBusy {
		t.Errorf("a second run while one is under way: %v, want ErrBusy", err)
	}
	if code, _ := f.do("POST", "/api/v1/runs", "token", nil); code != http.StatusConflict {
		t.Errorf("POST /api/v1/runs during a run: %d, want 409", code)
	}
	time.Sleep(50 * time.Millisecond) // let the readers read while the run holds
	close(f.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("read during a run: %s", e)
	}
	code, body := f.do("GET", "/metrics", "token", nil)
	if code != 200 || !strings.Contains(body, `idgraph_runs_total{result="ok"} 2`) || !strings.Contains(body, `idgraph_findings{kind="orphaned",severity="critical"} 1`) ||
		!strings.Contains(body, "idgraph_last_success_timestamp_seconds") || !strings.Contains(body, `idgraph_source_complete{source="stonly"} 1`) {
		t.Errorf("metrics:\n%.3000s", body)
	}
}

func TestPagesAndAPI(t *testing.T) {
	f := newFixture(t)
	a := "alice@acme.com:alice-password"
	for _, p := range []string{"/", "/findings?kind=orphaned&severity=critical", "/drift?to=1", "/download/report.html", "/download/findings.csv", "/api/v1/snapshots", "/api/v1/decisions"} {
		code, body := f.do("GET", p, a, nil)
		if p == "/drift?to=1" {
			if code != 404 {
				t.Errorf("drift without an earlier snapshot: %d", code)
			}
			continue
		}
		if code != 200 {
			t.Errorf("GET %s: %d %.200s", p, code, body)
		}
	}
	_, body := f.do("GET", "/findings?kind=orphaned&severity=critical", a, nil)
	if !strings.Contains(body, "bob@acme.com") || strings.Contains(body, "carol@acme.com") {
		t.Error("the filters do not filter")
	}
	items := f.findings("")
	var person string
	for _, it := range items {
		if it.Email == "bob@acme.com" {
			code, b := f.do("GET", "/api/v1/findings?kind=orphaned", "token", nil)
			_ = code
			var full []map[string]any
			json.Unmarshal([]byte(b), &full)
			person = full[0]["person"].(string)
		}
	}
	code, pb := f.do("GET", "/api/v1/people/"+person, "token", nil)
	if code != 200 || !strings.Contains(pb, "link_reason") || !strings.Contains(pb, "okta-export") {
		t.Errorf("person %s: %d %.300s", person, code, pb)
	}
	code, hb := f.do("GET", "/people/"+person, a, nil)
	if code != 200 || !strings.Contains(hb, "Linked because") {
		t.Errorf("person page: %d", code)
	}
}
