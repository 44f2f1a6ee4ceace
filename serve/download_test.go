package serve_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/serve"
)

// TestDownloadsHaveManifests: the UI serves each export's manifest beside
// it, the manifest names the moment whose decisions the export shows, and
// a download of the same snapshot as of the same moment stays the same
// bytes after later decisions.
func TestDownloadsHaveManifests(t *testing.T) {
	f := newFixture(t)
	get := func(path string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest("GET", f.http.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b strings.Builder
		buf := make([]byte, 32<<10)
		for {
			n, err := res.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return res.StatusCode, b.String(), res.Header
	}
	before := map[string]string{}
	for _, file := range []string{"accounts.csv", "findings.csv"} {
		code, data, _ := get("/download/" + file + "?snapshot=1")
		mcode, mdata, h := get("/download/" + file + ".manifest.json?snapshot=1")
		if code != 200 || mcode != 200 || h.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d, manifest %d %s", file, code, mcode, h.Get("Content-Type"))
		}
		var m struct {
			File, SHA256, DecisionsAsOf, ChainHead string
		}
		var raw map[string]any
		json.Unmarshal([]byte(mdata), &raw)
		m.File, _ = raw["file"].(string)
		m.SHA256, _ = raw["sha256"].(string)
		m.DecisionsAsOf, _ = raw["decisions_as_of"].(string)
		m.ChainHead, _ = raw["chain_head"].(string)
		sum := sha256.Sum256([]byte(data))
		if m.File != "snapshot-1-"+file || m.SHA256 != hex.EncodeToString(sum[:]) || m.DecisionsAsOf == "" || !strings.HasPrefix(m.ChainHead, "s1.e0.") {
			t.Errorf("%s manifest does not describe the download: %+v", file, m)
		}
		before[file], before[file+".manifest.json"] = data, mdata
	}
	carol := f.findingKey("unassigned", "carol@acme.com")
	f.now = time.Now().Add(time.Minute)
	if code, body := f.do("POST", "/api/v1/decisions", "alice@acme.com:alice-password", serve.DecisionRequest{Finding: carol, Decision: "revoke", Justification: "bypassed Okta"}); code != 201 {
		t.Fatalf("decide: %d %s", code, body)
	}
	for file, want := range before {
		if _, got, _ := get("/download/" + file + "?snapshot=1"); got != want {
			t.Errorf("%s of snapshot 1 changed after a later decision", file)
		}
	}
	asOf := rfc3339(f.now.Add(time.Hour))
	if _, got, _ := get("/download/findings.csv?snapshot=1&as_of=" + asOf); !strings.Contains(got, "revoke,,alice@acme.com,") {
		t.Errorf("findings.csv as of after the decision does not show it:\n%s", got)
	}
	if code, body, h := get("/api/v1/decisions?finding=" + carol); code != 200 || !strings.Contains(body, "bypassed Okta") || !strings.HasPrefix(h.Get("X-Idgraph-Chain-Head"), "s1.e1.") {
		t.Errorf("decisions API: %d %s %v", code, body, h)
	}
	if code, body, _ := get("/api/v1/decisions?as_of=2020-01-01"); code != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("decisions as of 2020: %d %s", code, body)
	}
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
