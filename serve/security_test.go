package serve_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/serve"
	"github.com/idgraph/idgraph/store"
)

// call is one HTTP request of a test.
type call struct {
	method, path string
	auth         string // "token", "user:password" (basic) or ""
	cookie       string // session cookie value
	header       map[string]string
	form         url.Values // sent as application/x-www-form-urlencoded
	body         string     // sent as is, with header's Content-Type
}

type answer struct {
	code     int
	body     string
	location string
	cookies  []*http.Cookie
}

// send performs c against base (the fixture's server by default) and
// never follows redirects.
func (f *fixture) send(c call) answer {
	f.t.Helper()
	return send(f.t, f.http.URL, f.http.Client(), c)
}

func send(t *testing.T, base string, client *http.Client, c call) answer {
	t.Helper()
	var rd io.Reader
	switch {
	case c.form != nil:
		rd = strings.NewReader(c.form.Encode())
	case c.body != "":
		rd = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, base+c.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if c.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	switch {
	case c.auth == "token":
		req.Header.Set("Authorization", "Bearer "+token)
	case strings.Contains(c.auth, ":"):
		u, p, _ := strings.Cut(c.auth, ":")
		req.SetBasicAuth(u, p)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "idgraph_session", Value: c.cookie})
	}
	cl := *client
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b), resp.Header.Get("Location"), resp.Cookies()}
}

func (a answer) session() *http.Cookie {
	for _, c := range a.cookies {
		if c.Name == "idgraph_session" && c.Value != "" {
			return c
		}
	}
	return nil
}

// signIn signs in through the form and returns the session cookie.
func (f *fixture) signIn(user, password string) string {
	f.t.Helper()
	a := f.send(call{method: "POST", path: "/login", form: url.Values{"user": {user}, "password": {password}, "next": {"/"}}})
	c := a.session()
	if a.code != http.StatusSeeOther || c == nil {
		f.t.Fatalf("sign-in of %s: %d %q, cookies %v", user, a.code, a.location, a.cookies)
	}
	return c.Value
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token of the findings page as c sees it.
func (f *fixture) csrf(c call) string {
	f.t.Helper()
	c.method, c.path = "GET", "/findings"
	a := f.send(c)
	m := csrfField.FindStringSubmatch(a.body)
	if a.code != 200 || m == nil {
		f.t.Fatalf("no CSRF token on the findings page: %d %.300s", a.code, a.body)
	}
	return m[1]
}

func (f *fixture) findingKey(kind, email string) string {
	f.t.Helper()
	for _, it := range f.findings("") {
		if it.Kind == kind && it.Email == email {
			return it.Key
		}
	}
	f.t.Fatalf("no %s finding for %s", kind, email)
	return ""
}

// TestSignInRedirectStaysOnTheService: after sign-in, and after a
// decision, the browser is sent only to a path of this service, never to
// another host however the address is spelt.
func TestSignInRedirectStaysOnTheService(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		next, want string
	}{
		{"/findings?kind=orphaned&severity=critical", "/findings?kind=orphaned&severity=critical"},
		{"/people/okta%3A00u1?snapshot=1", "/people/okta%3A00u1?snapshot=1"},
		{"/", "/"},
		{"", "/"},
		{`/\evil.example`, "/"},
		{`/\/evil.example`, "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\r\n/evil.example", "/"},
		{"/ /evil.example", "/"},
		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{"https://evil.example", "/"},
		{"https:/evil.example", "/"},
		{"http:evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"evil.example", "/"},
		{"/%2F%2Fevil.example", "/"},
		{"/%2fevil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"/%09/evil.example", "/"},
		{"%2F%2Fevil.example", "/"},
		{"/\u00a0/evil.example", "/"},
	} {
		t.Run(fmt.Sprintf("%q", tt.next), func(t *testing.T) {
			a := f.send(call{method: "POST", path: "/login", form: url.Values{"user": {"alice@acme.com"}, "password": {"alice-password"}, "next": {tt.next}}})
			if a.code != http.StatusSeeOther || a.location != tt.want {
				t.Errorf("signed in with next=%q: %d to %q, want %q", tt.next, a.code, a.location, tt.want)
			}
			// The sign-in page does not carry an unsafe next either.
			page := f.send(call{method: "GET", path: "/login?next=" + url.QueryEscape(tt.next)})
			if tt.want == "/" && strings.Contains(page.body, "evil.example") {
				t.Errorf("the sign-in page carries next=%q:\n%s", tt.next, page.body)
			}
		})
	}
	// Nor does a failed sign-in pass one on (a few: failures count
	// against the address).
	for _, next := range []string{`/\evil.example`, "/\t/evil.example", "/findings?kind=orphaned"} {
		want := "/"
		if next == "/findings?kind=orphaned" {
			want = next
		}
		failed := f.send(call{method: "POST", path: "/login", form: url.Values{"user": {"bob@acme.com"}, "password": {"wrong-password"}, "next": {next}}})
		if u, err := url.Parse(failed.location); err != nil || u.Path != "/login" || u.Query().Get("next") != want {
			t.Errorf("failed sign-in with next=%q: redirected to %q", next, failed.location)
		}
	}

	// The decision form's back field: only the findings page, with its
	// own query.
	alice := "alice@acme.com:alice-password"
	csrf := f.csrf(call{auth: alice})
	carol := f.findingKey("unassigned", "carol@acme.com")
	for _, tt := range []struct{ back, wantQuery string }{
		{"/findings?snapshot=1&kind=unassigned", "kind=unassigned&"},
		{`/\evil.example/findings`, ""},
		{"//evil.example/findings", ""},
		{"https://evil.example/findings", ""},
		{"/findings\t/evil", ""},
		{"/findingsX", ""},
		{"/%2F%2Fevil.example", ""},
		{"/people/x", ""},
	} {
		t.Run("back="+fmt.Sprintf("%q", tt.back), func(t *testing.T) {
			a := f.send(call{method: "POST", path: "/findings/decide", auth: alice, form: url.Values{"csrf": {csrf}, "finding": {carol},
				"decision": {"exception"}, "justification": {"contractor"}, "expires": {f.now.AddDate(0, 1, 0).Format("2006-01-02")}, "back": {tt.back}}})
			u, err := url.Parse(a.location)
			if a.code != http.StatusSeeOther || err != nil || u.Host != "" || u.Scheme != "" || u.Path != "/findings" || !strings.HasPrefix(a.location, "/findings?") {
				t.Fatalf("back=%q: %d to %q, want /findings?…", tt.back, a.code, a.location)
			}
			if u.Query().Get("msg") != "decision recorded" || !strings.Contains(u.RawQuery, tt.wantQuery) {
				t.Errorf("back=%q: redirected to %q", tt.back, a.location)
			}
		})
	}
}

// TestSignInThrottle: wrong passwords lock the account, then the address;
// while locked even the right password is refused; every failure is
// logged with account and address but without the password; the operator
// lifts a lockout through the API.
func TestSignInThrottle(t *testing.T) {
	f := newFixture(t)
	form := func(user, password string) answer {
		return f.send(call{method: "POST", path: "/login", form: url.Values{"user": {user}, "password": {password}, "next": {"/"}}})
	}
	codes := map[int]int{}
	for i := 0; i < 300; i++ {
		codes[form("alice@acme.com", fmt.Sprintf("guess-%03d", i)).code]++
	}
	if codes[http.StatusSeeOther] != 5 || codes[http.StatusTooManyRequests] != 295 {
		t.Errorf("300 wrong passwords: %v, want 5 failures then 295 refusals (429)", codes)
	}
	if a := form("alice@acme.com", "alice-password"); a.code != http.StatusTooManyRequests || a.session() != nil || !strings.Contains(a.body, "try again in") {
		t.Fatalf("the right password during the lockout: %d, cookie %v", a.code, a.session())
	}
	// Basic auth shares the count: Alice is locked out there too.
	if a := f.send(call{method: "GET", path: "/api/v1/findings", auth: "alice@acme.com:alice-password"}); a.code != http.StatusTooManyRequests {
		t.Errorf("basic auth of a locked-out account: %d, want 429", a.code)
	}
	// The lockout ends on its own (the 5th failure locks for a minute).
	f.now = f.now.Add(2 * time.Minute)
	if a := form("alice@acme.com", "alice-password"); a.code != http.StatusSeeOther || a.session() == nil {
		t.Fatalf("after the lockout: %d %q", a.code, a.location)
	}

	// Failed basic-auth attempts are logged, passwords never.
	if a := f.send(call{method: "GET", path: "/api/v1/findings", auth: "bob@acme.com:not-bobs-password"}); a.code != http.StatusUnauthorized {
		t.Fatalf("wrong basic auth: %d", a.code)
	}
	logs := f.logs.String()
	for _, want := range []string{`msg="failed sign-in" method=basic account=bob@acme.com address=127.0.0.1`,
		`msg="failed sign-in" method=form account=alice@acme.com address=127.0.0.1`, `msg="sign-in locked out" account=alice@acme.com`,
		`msg="sign-in refused: locked out" method=form account=alice@acme.com`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	for _, secret := range []string{"not-bobs-password", "guess-000", "guess-299", "alice-password"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log shows the password %q", secret)
		}
	}

	// Twenty accounts guessed from one address lock the address: Bob's
	// right password is refused from it.
	for i := 0; i < 20; i++ {
		form(fmt.Sprintf("user%02d@acme.com", i), "some-password")
	}
	if a := f.send(call{method: "GET", path: "/api/v1/findings", auth: "bob@acme.com:bob-password"}); a.code != http.StatusTooManyRequests || a.body == "" {
		t.Fatalf("from a locked-out address: %d", a.code)
	}

	// The operator sees the lockouts and lifts the address's.
	a := f.send(call{method: "GET", path: "/api/v1/lockouts", auth: "token"})
	if a.code != 200 || !strings.Contains(a.body, `"address": "127.0.0.1"`) || !strings.Contains(a.body, `"locked_until"`) {
		t.Fatalf("lockouts: %d %s", a.code, a.body)
	}
	for _, tt := range []struct {
		name, path, auth string
		want             int
	}{
		{"a reviewer may not lift", "/api/v1/lockouts?address=127.0.0.1", "alice@acme.com:alice-password", http.StatusTooManyRequests}, // and is locked out anyway
		{"one of account or address", "/api/v1/lockouts", "token", http.StatusBadRequest},
		{"nothing to lift", "/api/v1/lockouts?account=nobody@acme.com", "token", http.StatusNotFound},
		{"the operator lifts", "/api/v1/lockouts?address=127.0.0.1", "token", http.StatusOK},
	} {
		if a := f.send(call{method: "DELETE", path: tt.path, auth: tt.auth}); a.code != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, a.code, a.body, tt.want)
		}
	}
	if a := f.send(call{method: "GET", path: "/api/v1/findings", auth: "bob@acme.com:bob-password"}); a.code != http.StatusOK {
		t.Errorf("after the operator lifted the lockout: %d %s", a.code, a.body)
	}
	if a := f.send(call{method: "DELETE", path: "/api/v1/lockouts?account=user01@acme.com", auth: "bob@acme.com:bob-password"}); a.code != http.StatusForbidden {
		t.Errorf("a reviewer lifting a lockout: %d, want 403", a.code)
	}
	if !strings.Contains(f.logs.String(), `msg="lockout lifted" account="" address=127.0.0.1`) {
		t.Error("lifting a lockout is not logged")
	}
}

// TestThrottleBehindProxy: with trust_proxy the address that counts is
// the one the proxy appended to X-Forwarded-For; without it, the header
// is the client's word and ignored.
func TestThrottleBehindProxy(t *testing.T) {
	for _, trust := range []bool{false, true} {
		t.Run(fmt.Sprint("trust_proxy=", trust), func(t *testing.T) {
			f := newFixture(t)
			srv := f.server(func(o *serve.Options) { o.TrustProxy = trust })
			h := httptest.NewServer(srv.Handler())
			defer h.Close()
			for i := 0; i < 20; i++ {
				send(t, h.URL, h.Client(), call{method: "POST", path: "/login", header: map[string]string{"X-Forwarded-For": "203.0.113.9, 198.51.100.7"},
					form: url.Values{"user": {fmt.Sprintf("user%02d@acme.com", i)}, "password": {"x"}}})
			}
			other := send(t, h.URL, h.Client(), call{method: "GET", path: "/api/v1/findings", auth: "bob@acme.com:bob-password",
				header: map[string]string{"X-Forwarded-For": "203.0.113.9, 198.51.100.8"}})
			// Trusted: 198.51.100.8 is another client, not locked out.
			// Untrusted: every request counts against the peer, 127.0.0.1.
			want := http.StatusTooManyRequests
			if trust {
				want = http.StatusOK
			}
			if other.code != want {
				t.Errorf("another client behind the proxy: %d, want %d", other.code, want)
			}
		})
	}
}

// TestSessionsAreServerSide: signing out ends the session at once; a
// restart keeps it; it expires after 12 hours; the store holds no usable
// cookie; a reviewer removed from the configuration, or whose password
// changed, is signed out.
func TestSessionsAreServerSide(t *testing.T) {
	f := newFixture(t)
	works := func(h *httptest.Server, cookie string) bool {
		t.Helper()
		return send(t, h.URL, h.Client(), call{method: "GET", path: "/findings", cookie: cookie}).code == http.StatusOK
	}
	cookie := f.signIn("alice@acme.com", "alice-password")
	if !works(f.http, cookie) {
		t.Fatal("the new session does not work")
	}
	var ids []string
	rows, err := f.st.DB().Query(`SELECT id FROM sessions`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) != 1 || strings.Contains(ids[0], cookie) {
		t.Errorf("the store keeps %q for cookie %q: want one keyed hash, not the cookie", ids, cookie)
	}

	// A restart: a new service over the same store and secret.
	restarted := httptest.NewServer(f.server(nil).Handler())
	defer restarted.Close()
	if !works(restarted, cookie) {
		t.Error("the session did not survive a restart")
	}
	// Another secret: the stored sessions are useless.
	other := httptest.NewServer(f.server(func(o *serve.Options) { o.SessionSecret = []byte(strings.Repeat("x", 40)) }).Handler())
	defer other.Close()
	if works(other, cookie) {
		t.Error("a session works under another session secret")
	}
	// A reviewer removed from serve.users_env is signed out.
	withoutAlice := httptest.NewServer(f.server(func(o *serve.Options) { delete(o.Users, "alice@acme.com") }).Handler())
	defer withoutAlice.Close()
	if works(withoutAlice, cookie) {
		t.Error("the session of a removed reviewer still works")
	}

	// So is a reviewer whose password the operator changed.
	newPassword := httptest.NewServer(f.server(func(o *serve.Options) { o.Users["alice@acme.com"] = "a-new-password" }).Handler())
	defer newPassword.Close()
	if works(newPassword, cookie) {
		t.Error("the session outlived a change of the reviewer's password")
	}

	// Sign-out ends the session: the cookie, replayed, no longer works,
	// on this process or another.
	kept := cookie
	out := f.send(call{method: "POST", path: "/logout", cookie: cookie})
	if out.code != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", out.code)
	}
	if works(f.http, kept) || works(restarted, kept) {
		t.Error("the cookie still works after sign-out")
	}

	// Sessions expire after 12 hours.
	bob := f.signIn("bob@acme.com", "bob-password")
	f.now = f.now.Add(12*time.Hour - time.Minute)
	if !works(f.http, bob) {
		t.Error("a session expired early")
	}
	f.now = f.now.Add(2 * time.Minute)
	if works(f.http, bob) {
		t.Error("a session works after 12 hours")
	}

	// Reviewers without a session secret: refused at start.
	_, err = serve.New(context.Background(), serve.Options{Store: f.st, Run: f.run, Users: map[string]string{"alice@acme.com": "alice-password"}})
	if err == nil || !strings.Contains(err.Error(), "serve.session_secret_env") {
		t.Errorf("users without a session secret: %v", err)
	}
}

// TestCrossOriginRequestsRefused: state-changing requests from another
// origin are refused however they authenticate; forms need their CSRF
// token with basic auth too; the API takes JSON only.
func TestCrossOriginRequestsRefused(t *testing.T) {
	f := newFixture(t)
	alice := "alice@acme.com:alice-password"
	carol := f.findingKey("unassigned", "carol@acme.com")
	decision := fmt.Sprintf(`{"finding":%q,"decision":"revoke","justification":"not in Okta"}`, carol)
	jsonCT := map[string]string{"Content-Type": "application/json"}
	with := func(h map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range h {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	cookie := f.signIn("bob@acme.com", "bob-password")
	basicCSRF := f.csrf(call{auth: alice})
	sessionCSRF := f.csrf(call{cookie: cookie})
	decideForm := func(csrf string) url.Values {
		return url.Values{"csrf": {csrf}, "finding": {carol}, "decision": {"exception"}, "justification": {"on purpose"}, "expires": {f.now.AddDate(0, 1, 0).Format("2006-01-02")}, "back": {"/findings"}}
	}
	host := strings.TrimPrefix(f.http.URL, "http://")
	for _, tt := range []struct {
		name string
		c    call
		want int
	}{
		{"API, basic auth, cross-site fetch", call{method: "POST", path: "/api/v1/decisions", auth: alice, body: decision, header: with(jsonCT, "Sec-Fetch-Site", "cross-site")}, 403},
		{"API, basic auth, same-site but other origin", call{method: "POST", path: "/api/v1/decisions", auth: alice, body: decision, header: with(jsonCT, "Sec-Fetch-Site", "same-site")}, 403},
		{"API, basic auth, foreign Origin (older browser)", call{method: "POST", path: "/api/v1/decisions", auth: alice, body: decision, header: with(jsonCT, "Origin", "https://evil.example")}, 403},
		{"API, basic auth, Origin null", call{method: "POST", path: "/api/v1/decisions", auth: alice, body: decision, header: with(jsonCT, "Origin", "null")}, 403},
		{"API, text/plain body", call{method: "POST", path: "/api/v1/decisions", auth: alice, body: decision, header: map[string]string{"Content-Type": "text/plain"}}, 415},
		{"API, form body", call{method: "POST", path: "/api/v1/decisions", auth: alice, body: decision, header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 415},
		{"API, no content type", call{method: "POST", path: "/api/v1/decisions", auth: alice, body: decision}, 415},
		{"API runs, cross-site", call{method: "POST", path: "/api/v1/runs", auth: alice, header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403},
		{"API lift, cross-site, even with the token", call{method: "DELETE", path: "/api/v1/lockouts?address=127.0.0.1", auth: "token", header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403},
		{"form, basic auth, no CSRF token", call{method: "POST", path: "/findings/decide", auth: alice, form: decideForm("")}, 403},
		{"form, basic auth, another reviewer's token", call{method: "POST", path: "/findings/decide", auth: alice, form: decideForm(sessionCSRF)}, 403},
		{"form, basic auth, cross-site with its token", call{method: "POST", path: "/findings/decide", auth: alice, form: decideForm(basicCSRF), header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403},
		{"form, session, foreign Origin with its token", call{method: "POST", path: "/findings/decide", cookie: cookie, form: decideForm(sessionCSRF), header: map[string]string{"Origin": "https://evil.example"}}, 403},
		{"run form, basic auth, no CSRF token", call{method: "POST", path: "/runs", auth: alice, form: url.Values{}}, 403},
		{"sign-in, cross-site (login CSRF)", call{method: "POST", path: "/login", form: url.Values{"user": {"alice@acme.com"}, "password": {"alice-password"}}, header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403},
		{"sign-out, cross-site", call{method: "POST", path: "/logout", cookie: cookie, header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403},
		// What must keep working: scripts (no browser headers), and the
		// service's own pages.
		{"API, script with basic auth", call{method: "POST", path: "/api/v1/decisions", auth: alice, body: decision, header: jsonCT}, 201},
		{"API, same origin", call{method: "POST", path: "/api/v1/decisions", auth: alice, body: decision, header: with(jsonCT, "Origin", "http://"+host, "Sec-Fetch-Site", "same-origin")}, 201},
		{"API, JSON with charset", call{method: "POST", path: "/api/v1/decisions", auth: alice, body: decision, header: map[string]string{"Content-Type": "application/json; charset=utf-8"}}, 201},
		{"form, basic auth, same origin with its token", call{method: "POST", path: "/findings/decide", auth: alice, form: decideForm(basicCSRF), header: map[string]string{"Sec-Fetch-Site": "same-origin"}}, 303},
		{"form, session, same origin with its token", call{method: "POST", path: "/findings/decide", cookie: cookie, form: decideForm(sessionCSRF), header: map[string]string{"Origin": "http://" + host}}, 303},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := f.send(tt.c)
			if a.code != tt.want {
				t.Fatalf("%d %.300s, want %d", a.code, a.body, tt.want)
			}
			if tt.want == 303 && strings.Contains(a.location, "err=") {
				t.Errorf("the decision was refused: %s", a.location)
			}
		})
	}
	if n := strings.Count(f.logs.String(), `msg="cross-origin request refused"`); n != 10 {
		t.Errorf("%d refused cross-origin requests logged, want 10", n)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idgraph test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLSAndSecureCookies: with a certificate, Serve answers HTTPS and
// the session cookie is Secure; over plain HTTP it is Secure only when a
// trusted proxy says the client used HTTPS.
func TestTLSAndSecureCookies(t *testing.T) {
	f := newFixture(t)
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	srv := f.server(func(o *serve.Options) { o.TLSCertFile, o.TLSKeyFile = certFile, keyFile })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := "https://" + ln.Addr().String()
	signin := call{method: "POST", path: "/login", form: url.Values{"user": {"alice@acme.com"}, "password": {"alice-password"}, "next": {"/"}}}
	a := send(t, base, client, signin)
	if c := a.session(); c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Fatalf("over HTTPS: %d, session cookie %+v", a.code, c)
	}
	if a := send(t, base, client, call{method: "GET", path: "/findings", cookie: a.session().Value}); a.code != 200 {
		t.Errorf("the session over HTTPS: %d", a.code)
	}
	// The TLS port does not answer plain HTTP.
	if resp, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("the TLS port answered plain HTTP")
		}
	}

	// A certificate that does not load stops the start.
	if _, err := serve.New(context.Background(), serve.Options{Store: f.st, Token: token, TLSCertFile: keyFile, TLSKeyFile: certFile}); err == nil ||
		!strings.Contains(err.Error(), "serve.tls_cert_file") {
		t.Errorf("swapped certificate and key: %v", err)
	}

	proxied := call{method: "POST", path: "/login", form: signin.form, header: map[string]string{"X-Forwarded-Proto": "https"}}
	for _, tt := range []struct {
		name   string
		trust  bool
		c      call
		secure bool
	}{
		{"plain HTTP", false, signin, false},
		{"X-Forwarded-Proto from an untrusted client", false, proxied, false},
		{"X-Forwarded-Proto from the trusted proxy", true, proxied, true},
		{"trusted proxy, plain HTTP", true, signin, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := httptest.NewServer(f.server(func(o *serve.Options) { o.TrustProxy = tt.trust }).Handler())
			defer h.Close()
			a := send(t, h.URL, h.Client(), tt.c)
			if c := a.session(); c == nil || c.Secure != tt.secure {
				t.Errorf("%d, cookie %+v, want Secure %v", a.code, c, tt.secure)
			}
		})
	}
}

// TestReadyWhileStopping: once stopping, /readyz answers 503 (the
// listener stays open) while a run under way finishes; then Serve returns.
func TestReadyWhileStopping(t *testing.T) {
	f := newFixture(t)
	srv := f.server(nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	if a := send(t, base, http.DefaultClient, call{method: "GET", path: "/readyz"}); a.code != 200 {
		t.Fatalf("ready: %d", a.code)
	}
	f.gate = make(chan struct{})
	ran := make(chan error, 1)
	go func() { ran <- srv.RunNow(context.Background(), "test") }()
	for !srv.Running() {
		time.Sleep(time.Millisecond)
	}
	cancel()
	// Poll until the service says it is stopping; every answer meanwhile
	// is an answer, not a refused connection.
	for {
		a := send(t, base, http.DefaultClient, call{method: "GET", path: "/readyz"})
		if a.code == http.StatusServiceUnavailable {
			break
		}
		if a.code != 200 {
			t.Fatalf("readyz while stopping: %d", a.code)
		}
		time.Sleep(time.Millisecond)
	}
	for _, c := range []struct {
		call
		want int
	}{
		{call{method: "GET", path: "/readyz"}, 503},
		{call{method: "GET", path: "/healthz"}, 200},
		{call{method: "GET", path: "/api/v1/snapshots", auth: "token"}, 200},
		{call{method: "POST", path: "/api/v1/runs", auth: "token"}, 503},
	} {
		if a := send(t, base, http.DefaultClient, c.call); a.code != c.want {
			t.Errorf("%s %s while stopping: %d %s, want %d", c.method, c.path, a.code, a.body, c.want)
		}
	}
	select {
	case err := <-done:
		t.Fatalf("Serve returned during a run: %v", err)
	default:
	}
	close(f.gate)
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if err := srv.RunNow(context.Background(), "after"); !errors.Is(err, serve.ErrStopping) {
		t.Errorf("a run after stopping: %v, want ErrStopping", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the listener is still open after Serve returned")
	}
}

// TestMetricsSurviveRestart: a service started over a store with
// snapshots shows the latest snapshot's gauges before its first run.
func TestMetricsSurviveRestart(t *testing.T) {
	f := newFixture(t)
	sum, err := f.st.Get(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	h := httptest.NewServer(f.server(nil).Handler())
	defer h.Close()
	a := send(t, h.URL, h.Client(), call{method: "GET", path: "/metrics", auth: "token"})
	for _, want := range []string{`idgraph_findings{kind="orphaned",severity="critical"} 1`, `idgraph_source_complete{source="stonly"} 1`,
		`idgraph_source_records{source="okta-export"}`, "idgraph_last_success_timestamp_seconds 1.", "go_goroutines", "process_start_time_seconds"} {
		if !strings.Contains(a.body, want) {
			t.Errorf("metrics after a restart lack %q", want)
		}
	}
	var got float64
	for _, l := range strings.Split(a.body, "\n") {
		if strings.HasPrefix(l, "idgraph_last_success_timestamp_seconds ") {
			fmt.Sscanf(strings.TrimPrefix(l, "idgraph_last_success_timestamp_seconds "), "%g", &got)
		}
	}
	if d := got - float64(sum.FinishedAt.Unix()); d < 0 || d >= 1 {
		t.Errorf("last success %v, want the snapshot's finish %v", got, sum.FinishedAt)
	}

	// An empty store: no gauges yet, and no success.
	empty, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "empty.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	srv, err := serve.New(context.Background(), serve.Options{Store: empty, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	h2 := httptest.NewServer(srv.Handler())
	defer h2.Close()
	b := send(t, h2.URL, h2.Client(), call{method: "GET", path: "/metrics", auth: "token"}).body
	if !strings.Contains(b, "idgraph_last_success_timestamp_seconds 0") || strings.Contains(b, "idgraph_findings{") || strings.Contains(b, "idgraph_source_complete{") {
		t.Errorf("metrics over an empty store:\n%.2000s", b)
	}
}
