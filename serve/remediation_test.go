package serve_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/remediation"
	"github.com/idgraph/idgraph/review"
	"github.com/idgraph/idgraph/serve"
	"github.com/idgraph/idgraph/store"
)

// recordingActor answers done to every action and remembers them: the
// page's rules (who may apply what, after seeing which plan) are the
// service's, whatever the application does.
type recordingActor struct {
	mu   sync.Mutex
	acts []collectors.Action
}

func (a *recordingActor) Act(_ context.Context, acts []collectors.Action) ([]collectors.ActionResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []collectors.ActionResult
	for _, act := range acts {
		a.acts = append(a.acts, act)
		out = append(out, collectors.ActionResult{ID: act.ID, Outcome: collectors.OutcomeDone, Detail: "removed", Started: time.Now(), Ended: time.Now(),
			Before: []byte("png"), CaptureType: "image/png"})
	}
	return out, nil
}

func (a *recordingActor) emails() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, act := range a.acts {
		out = append(out, act.Account.Email)
	}
	return out
}

var digestField = regexp.MustCompile(`name="digest" value="([^"]+)"`)

// TestChangesWaiting: the page shows the plan; a reviewer applies only
// what another reviewer decided, after a page that shows what will run;
// the decider's own decision is refused; the form needs its CSRF token,
// a person (not the bearer token) and the plan as it was shown; the
// metrics count the actions.
func TestChangesWaiting(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	decide := func(kind, email, who string) {
		t.Helper()
		if _, _, err := f.st.Submit(ctx, store.Reviewing{}, f.findingKey(kind, email), review.Request{Decision: "revoke", Justification: "left",
			Reviewer: who, Now: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	decide("unassigned", "carol@acme.com", "alice@acme.com")
	decide("orphaned", "peggy@acme.com", "bob@acme.com")
	actor := &recordingActor{}
	eng := &remediation.Engine{Store: f.st, Actors: map[string]collectors.Actor{"stonly": actor},
		Limits: remediation.Limits{Enabled: true, MaxActions: 10, MaxShare: 0.5, MaxAge: 24 * time.Hour}, CaptureDir: t.TempDir()}
	srv := f.server(func(o *serve.Options) {
		o.Now = time.Now
		o.Remediation = serve.RemediationOptions{Plan: eng.Plan, Apply: eng.Apply, Enabled: true}
	})
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	do := func(c call) answer { t.Helper(); return send(t, hs.URL, hs.Client(), c) }
	signIn := func(user, pw string) string {
		t.Helper()
		a := do(call{method: "POST", path: "/login", form: url.Values{"user": {user}, "password": {pw}, "next": {"/"}}})
		if a.session() == nil {
			t.Fatalf("sign-in of %s: %d", user, a.code)
		}
		return a.session().Value
	}
	page := func(cookie string) (body, csrf, digest string) {
		t.Helper()
		a := do(call{method: "GET", path: "/remediation", cookie: cookie})
		if a.code != http.StatusOK {
			t.Fatalf("changes waiting: %d %.300s", a.code, a.body)
		}
		c, d := csrfField.FindStringSubmatch(a.body), digestField.FindStringSubmatch(a.body)
		if c == nil {
			t.Fatalf("no CSRF token on the page: %.500s", a.body)
		}
		if d != nil {
			digest = d[1]
		}
		return a.body, c[1], digest
	}

	alice := signIn("alice@acme.com", "alice-password")
	body, csrf, digest := page(alice)
	for _, want := range []string{"carol@acme.com", "peggy@acme.com", "you decided this: another reviewer applies it", "Review and apply 1 change in stonly"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	apply := func(cookie, csrf, digest string, confirm bool) answer {
		t.Helper()
		form := url.Values{"csrf": {csrf}, "app": {"stonly"}, "digest": {digest}}
		if confirm {
			form.Set("confirm", "1")
		}
		return do(call{method: "POST", path: "/remediation/apply", cookie: cookie, form: form})
	}
	// The first post shows what would run and changes nothing.
	a := apply(alice, csrf, digest, false)
	if a.code != http.StatusOK || !strings.Contains(a.body, "Apply these changes in stonly?") || !strings.Contains(a.body, "would run") ||
		!strings.Contains(a.body, "applying needs a reviewer other than the decider") || len(actor.emails()) != 0 {
		t.Fatalf("review before applying: %d %s (actions %v)", a.code, a.body, actor.emails())
	}
	// Without the CSRF token, from the bearer token, or with another plan
	// than the one shown: nothing runs.
	if a := apply(alice, "", digest, true); a.code != http.StatusForbidden {
		t.Errorf("apply without the CSRF token: %d", a.code)
	}
	if a := do(call{method: "POST", path: "/remediation/apply", auth: "token", form: url.Values{"app": {"stonly"}, "digest": {digest}, "confirm": {"1"}}}); a.code != http.StatusForbidden {
		t.Errorf("apply with the bearer token: %d", a.code)
	}
	if a := apply(alice, csrf, "0000000000000000", true); a.code != http.StatusConflict || !strings.Contains(a.body, "changed since it was shown") {
		t.Errorf("apply of another plan: %d %.300s", a.code, a.body)
	}
	if got := actor.emails(); len(got) != 0 {
		t.Fatalf("refused forms acted on %v", got)
	}
	// Alice applies Bob's decision; hers is refused.
	a = apply(alice, csrf, digest, true)
	if a.code != http.StatusOK || !strings.Contains(a.body, "Changes applied in stonly") {
		t.Fatalf("apply: %d %s", a.code, a.body)
	}
	if got := actor.emails(); len(got) != 1 || got[0] != "peggy@acme.com" {
		t.Fatalf("alice's apply acted on %v, want peggy only", got)
	}
	// Bob applies Alice's.
	bob := signIn("bob@acme.com", "bob-password")
	body, csrf, digest = page(bob)
	if !strings.Contains(body, "Review and apply 1 change") || !strings.Contains(body, "pending") {
		t.Fatalf("bob's page: %s", body)
	}
	if a := apply(bob, csrf, digest, true); a.code != http.StatusOK {
		t.Fatalf("bob's apply: %d %s", a.code, a.body)
	}
	if got := actor.emails(); len(got) != 2 || got[1] != "carol@acme.com" {
		t.Fatalf("actions %v", got)
	}
	status, err := remediation.StatusOf(ctx, f.st, "")
	if err != nil {
		t.Fatal(err)
	}
	applied := map[string]string{}
	for _, a := range status.Actions {
		applied[a.Email] = a.AppliedBy + " decided by " + a.DecidedBy
	}
	if applied["peggy@acme.com"] != "alice@acme.com decided by bob@acme.com" || applied["carol@acme.com"] != "bob@acme.com decided by alice@acme.com" {
		t.Errorf("records: %v", applied)
	}
	m := do(call{method: "GET", path: "/metrics", auth: "token"})
	for _, want := range []string{`idgraph_remediation_applied_actions_total{app="stonly"} 2`, `idgraph_remediation_pending_actions{app="stonly"} 2`,
		`idgraph_remediation_failed_actions_total{app="stonly"} 0`, `idgraph_remediation_confirmed_actions_total{app="stonly"} 0`} {
		if !strings.Contains(m.body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The kill switch, as the page says it.
	off := f.server(func(o *serve.Options) {
		e := &remediation.Engine{Store: f.st, Actors: eng.Actors, Limits: eng.Limits, CaptureDir: eng.CaptureDir}
		e.Limits.Enabled = false
		o.Remediation = serve.RemediationOptions{Plan: e.Plan, Apply: e.Apply}
	})
	hs2 := httptest.NewServer(off.Handler())
	defer hs2.Close()
	if a := send(t, hs2.URL, hs2.Client(), call{method: "GET", path: "/remediation", auth: "alice@acme.com:alice-password"}); !strings.Contains(a.body, "remediation.enabled is false") {
		t.Errorf("the page does not say the kill switch is on: %.300s", a.body)
	}
}
