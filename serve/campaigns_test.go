package serve_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/review"
	"github.com/idgraph/idgraph/store"
)

var itemRow = regexp.MustCompile(`<tr id="item-([0-9a-f]+)" data-key="([^"]+)" data-state="([a-z]+)">`)

// queueOf reads the item rows of a /reviews page: key -> state.
func queueOf(body string) map[string]string {
	out := map[string]string{}
	for _, m := range itemRow.FindAllStringSubmatch(body, -1) {
		out[m[2]] = m[3]
	}
	return out
}

// TestReviewQueue: a signed-in reviewer sees their queue of each open
// campaign with its progress, decides from it by the review rules, and
// nothing once the campaign is signed off; the overview shows every
// reviewer's progress.
func TestReviewQueue(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, _, err := f.st.StartCampaign(ctx, store.CampaignSpec{Apps: []string{"stonly"}, Due: f.now.Add(7 * 24 * time.Hour), StartedBy: "lead@acme.com", Now: f.now,
		Routing: review.Routing{Route: review.RouteOwner, Owners: map[string]string{"stonly": "alice@acme.com"}, Fallback: "bob@acme.com"}})
	if err != nil {
		t.Fatal(err)
	}
	items, err := f.st.CampaignItems(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	mine, own, key := map[string]bool{}, "", ""
	for _, it := range items {
		if it.Reviewer == "alice@acme.com" {
			mine[it.Key] = true
			if it.Finding.Kind == "orphaned" && it.Finding.ActualRole == "Member" && it.Finding.Severity != "critical" {
				key = it.Key // decided by one reviewer
			}
		} else if it.Email == "alice@acme.com" {
			own = it.Key // alice's own access went to the fallback
		}
	}
	if own == "" || len(mine) == 0 {
		t.Fatalf("routing: alice reviews %d items, her own access is %q", len(mine), own)
	}
	alice := f.signIn("alice@acme.com", "alice-password")

	a := f.send(call{method: "GET", path: "/reviews", cookie: alice})
	q := queueOf(a.body)
	if a.code != http.StatusOK || len(q) != len(mine) || !strings.Contains(a.body, "0/"+itoa(len(mine))+" decided") {
		t.Fatalf("alice's queue: %d, %d rows (want %d)\n%.2000s", a.code, len(q), len(mine), a.body)
	}
	if _, ok := q[own]; ok {
		t.Fatal("alice's queue holds her own access")
	}
	if key == "" {
		t.Fatalf("no orphaned finding in alice's queue: %v", mine)
	}
	if !strings.Contains(a.body, `finding=`+url.QueryEscape(key)+`">open in the decision form`) {
		i := strings.Index(a.body, "decide-form")
		t.Errorf("the queue's finding items do not link to the decision form: %.300s", a.body[max(i, 0):])
	}
	csrf := csrfField.FindStringSubmatch(a.body)[1]
	form := func(item string, vals ...string) url.Values {
		v := url.Values{"csrf": {csrf}, "campaign": {itoa(int(c.ID))}, "item": {item}}
		for i := 0; i+1 < len(vals); i += 2 {
			v.Set(vals[i], vals[i+1])
		}
		return v
	}
	// Refused: no justification; the row says so and keeps what was typed.
	a = f.send(call{method: "POST", path: "/reviews/decide", cookie: alice, form: form(key, "decision", "revoke", "role", "")})
	if a.code != http.StatusBadRequest || !strings.Contains(a.body, "Not recorded: a justification is required") || !strings.Contains(a.body, "<option selected>revoke</option>") {
		t.Fatalf("a refused decision: %d\n%.3000s", a.code, a.body)
	}
	// Refused: her own access, even posted from outside her queue.
	exp := f.now.Add(30 * 24 * time.Hour).UTC().Format("2006-01-02")
	a = f.send(call{method: "POST", path: "/reviews/decide", cookie: alice, form: form(own, "decision", "approve", "justification", "mine", "expires", exp)})
	if a.code != http.StatusForbidden {
		t.Fatalf("alice deciding her own access: %d, want 403\n%.1000s", a.code, a.body)
	}
	a = f.send(call{method: "POST", path: "/reviews/decide", cookie: alice, form: form(key, "decision", "revoke", "justification", "left the company")})
	if a.code != http.StatusSeeOther || !strings.HasPrefix(a.location, "/reviews?msg=") {
		t.Fatalf("a decision from the queue: %d %q\n%.1000s", a.code, a.location, a.body)
	}
	a = f.send(call{method: "GET", path: "/reviews", cookie: alice})
	if q := queueOf(a.body); q[key] != "decided" || !strings.Contains(a.body, "1/"+itoa(len(mine))+" decided") {
		t.Fatalf("after the decision: state %q\n%.2000s", q[key], a.body)
	}
	hist, err := f.st.History(ctx, key)
	if err != nil || len(hist) != 1 || hist[0].Reviewer != "alice@acme.com" || hist[0].Decision != "revoke" {
		t.Fatalf("recorded: %+v, %v", hist, err)
	}

	// The overview, for anyone signed in (a token too).
	a = f.send(call{method: "GET", path: "/campaigns", auth: "token"})
	if a.code != http.StatusOK || !strings.Contains(a.body, `data-reviewer="alice@acme.com"`) || !strings.Contains(a.body, `data-reviewer="bob@acme.com"`) {
		t.Fatalf("overview: %d\n%.2000s", a.code, a.body)
	}
	// A token names no reviewer: no queue, and no decision from it.
	if a = f.send(call{method: "GET", path: "/reviews", auth: "token"}); !strings.Contains(a.body, "Sign in as a reviewer") {
		t.Fatalf("the queue of a token: %.1000s", a.body)
	}

	if _, err := f.st.SignOff(ctx, c.ID, "lead@acme.com", f.now, ""); err != nil {
		t.Fatal(err)
	}
	a = f.send(call{method: "GET", path: "/reviews", cookie: alice})
	if len(queueOf(a.body)) != 0 || !strings.Contains(a.body, "No open campaign has items for you") {
		t.Fatalf("the queue after the sign-off: %.1500s", a.body)
	}
	a = f.send(call{method: "POST", path: "/reviews/decide", cookie: alice, form: form(key, "decision", "approve", "justification", "again", "expires", exp)})
	if a.code != http.StatusBadRequest || !strings.Contains(a.body, "signed off") {
		t.Fatalf("a decision after the sign-off: %d\n%.1000s", a.code, a.body)
	}
	if a = f.send(call{method: "GET", path: "/campaigns", auth: "token"}); !strings.Contains(a.body, "Signed off by lead@acme.com") {
		t.Fatalf("overview after the sign-off: %.1500s", a.body)
	}
	// The evidence pack, from the overview: the bytes `idgraph evidence`
	// writes, each time.
	if !strings.Contains(a.body, `href="/campaigns/1/evidence/manifest.json"`) {
		t.Fatalf("the overview does not link the evidence pack: %.3000s", a.body)
	}
	files, _, err := report.BuildPack(ctx, f.st, c.ID, report.PackOptions{Now: time.Now(), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"manifest.json", "decisions.csv", "population.csv"} {
		a = f.send(call{method: "GET", path: "/campaigns/1/evidence/" + name, auth: "token"})
		if a.code != http.StatusOK || a.body != string(files[name]) {
			t.Fatalf("download of %s: %d, %d bytes (want %d)", name, a.code, len(a.body), len(files[name]))
		}
	}
	for _, path := range []string{"/campaigns/9/evidence/manifest.json", "/campaigns/1/evidence/other.txt"} {
		if a = f.send(call{method: "GET", path: path, auth: "token"}); a.code != http.StatusNotFound || strings.Contains(a.body, f.dir) {
			t.Fatalf("%s: %d %s", path, a.code, a.body)
		}
	}
	// The form's CSRF token is checked.
	bad := form(key, "decision", "revoke", "justification", "x")
	bad.Set("csrf", "forged")
	if a = f.send(call{method: "POST", path: "/reviews/decide", cookie: alice, form: bad}); a.code != http.StatusForbidden {
		t.Fatalf("a forged form: %d", a.code)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
