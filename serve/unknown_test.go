package serve_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestUnknownFindingsAreSaid: after a run in which the Stonly export was
// missing, the API's findings (facts only by default) come with headers
// that say how many findings could not be re-checked and which source was
// incomplete, and the findings page says so above its table.
func TestUnknownFindingsAreSaid(t *testing.T) {
	f := newFixture(t)
	code, body := f.do("GET", "/api/v1/findings?state=all", "token", nil)
	var before []map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &before) != nil || len(before) == 0 {
		t.Fatalf("first run: %d %s", code, body)
	}
	if err := os.Remove(f.stonly); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.RunNow(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", f.http.URL+"/api/v1/findings", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("X-Idgraph-Incomplete-Sources"); got != "stonly" {
		t.Errorf("X-Idgraph-Incomplete-Sources = %q", got)
	}
	var facts []map[string]any
	json.NewDecoder(resp.Body).Decode(&facts)
	resp.Body.Close()
	unknown := resp.Header.Get("X-Idgraph-Unknown-Findings")
	if unknown == "" || unknown == "0" {
		t.Fatalf("X-Idgraph-Unknown-Findings = %q, with %d facts", unknown, len(facts))
	}
	code, body = f.do("GET", "/api/v1/findings?state=unknown", "token", nil)
	var unk []map[string]any
	json.Unmarshal([]byte(body), &unk)
	if code != 200 || len(unk) == 0 || unk[0]["carried"] != true || unk[0]["last_confirmed_snapshot"] == nil {
		t.Fatalf("unknown findings: %d %s", code, body)
	}
	code, page := f.do("GET", "/findings", "token", nil)
	if code != 200 || !strings.Contains(page, "could not be re-checked because stonly was incomplete") {
		t.Errorf("the findings page does not say what could not be re-checked:\n%s", page)
	}
}

// TestAPIFiltersAndErrors: a filter value that cannot match is a 400 that
// names the values it may take, never an empty list; the app filter
// selects by application; a 404 never shows the store's path.
func TestAPIFiltersAndErrors(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		query string
		code  int
		has   string
	}{
		{"?kind=orphan", 400, "kind must be one of orphaned"},
		{"?severity=severe", 400, "severity must be one of critical"},
		{"?state=closed", 400, "state must be one of open, unknown, all"},
		{"?decision=approved", 400, "decision must be one of undecided"},
		{"?app=notion", 400, "app must be one of stonly"},
		{"?app=stonly", 200, `"app": "stonly"`},
		{"?kind=orphaned&severity=critical", 200, `"kind": "orphaned"`},
		{"?snapshot=42", 404, "there is no snapshot 42"},
	} {
		code, body := f.do("GET", "/api/v1/findings"+tt.query, "token", nil)
		if code != tt.code || !strings.Contains(body, tt.has) {
			t.Errorf("%s: %d %s, want %d with %q", tt.query, code, body, tt.code, tt.has)
		}
		if strings.Contains(body, f.dir) {
			t.Errorf("%s: the answer shows the store's folder: %s", tt.query, body)
		}
	}
	for _, path := range []string{"/api/v1/people/okta:nobody?snapshot=42", "/download/findings.csv?snapshot=42"} {
		code, body := f.do("GET", path, "token", nil)
		if code != 404 || strings.Contains(body, f.dir) || strings.Contains(body, ".db") {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}
}
