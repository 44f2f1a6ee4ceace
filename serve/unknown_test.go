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
