package stonly_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/stonly"
	"github.com/idgraph/idgraph/collectors/stonly/stonlytest"
	"github.com/idgraph/idgraph/internal/browsertest"
)

const password = "correct horse battery staple"

// TestScreenshotsMaskSecrets: a screenshot's pixels cannot be scrubbed
// afterwards, so whatever secret the page shows (the password, a cookie's
// value, a JWT, a bearer token, a field's value) is masked in the page
// before it is taken; the rest of the page stays as it is.
func TestScreenshotsMaskSecrets(t *testing.T) {
	browsertest.Path(t)
	const (
		cookie = "9f8e7d6c5b4a39281706f5e4d3c2b1a0aa55bb66"
		jwt    = "eyJhbGciOiJIUzI1NiJ9.eyJzaWQiOiJhYmMifQ.c2lnbmF0dXJlLXZhbHVl"
		bearer = "Authorization: Bearer tok_4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
	)
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: cookie, Path: "/"})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><body><h1>Team Management</h1><p>member3@acme.com · Member 3</p>
<p>Name: %s</p><p>%s</p><pre>%s</pre><p id="c"></p><input value="%s">
<script>document.getElementById('c').textContent = 'cookie: ' + document.cookie</script></body></html>`, password, jwt, bearer, password)
	}))
	defer page.Close()
	srv := stonlytest.NewServer(stonlytest.Generate(1))
	defer srv.Close()
	c, err := stonly.NewCollector(stonly.Config{URL: srv.URL, Email: "it-bot@acme.com", PasswordEnv: "P", StepTimeout: 10 * time.Second},
		collectors.Env{File: "t.yaml", Getenv: func(string) string { return password }})
	if err != nil {
		t.Fatal(err)
	}
	png, shown, err := c.ScreenshotAsEvidence(context.Background(), page.URL)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("not a PNG: %d bytes", len(png))
	}
	for _, s := range []string{password, cookie, jwt, "tok_4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"} {
		if strings.Contains(shown, s) {
			t.Errorf("the page still shows %.10s… when the screenshot is taken:\n%s", s, shown)
		}
	}
	if !strings.Contains(shown, "member3@acme.com · Member 3") || !strings.Contains(shown, "[REDACTED]") {
		t.Errorf("the page's other words must stay, the secrets be marked:\n%s", shown)
	}
}
