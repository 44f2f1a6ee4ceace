package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testToken   = "serve-token-0123456789abcdef"
	testUsers   = "alice@acme.com:alice-password"
	testSession = "serve-session-secret-0123456789abcdefghij"
)

// serveConfig appends yaml to a private copy of the quick-start file.
func serveConfig(t *testing.T, yaml string) string {
	t.Helper()
	cfg := quickstart(t)
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(b, []byte(yaml)...), 0o600)
	return cfg
}

var serveEnv = map[string]string{"IDGRAPH_TOKEN": testToken, "IDGRAPH_USERS": testUsers, "IDGRAPH_SESSION_SECRET": testSession}

const serveSection = "serve: {listen: 127.0.0.1:0, token_env: IDGRAPH_TOKEN, users_env: IDGRAPH_USERS, session_secret_env: IDGRAPH_SESSION_SECRET}\n"

func with(env map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// TestServeRefusesToStartWithoutItsSecrets: a secret that serve or a
// configured source needs stops the start (exit 2), instead of the first
// scheduled run.
func TestServeRefusesToStartWithoutItsSecrets(t *testing.T) {
	for _, tt := range []struct {
		name, yaml string
		env        map[string]string
		want       string
	}{
		{"reviewers without a session secret", "serve: {listen: 127.0.0.1:0, users_env: IDGRAPH_USERS}\n", serveEnv, "serve.session_secret_env"},
		{"a short session secret", serveSection, with(serveEnv, "IDGRAPH_SESSION_SECRET", "short"), "IDGRAPH_SESSION_SECRET, which must hold at least 32 characters"},
		{"the token unset", serveSection, with(serveEnv, "IDGRAPH_TOKEN", ""), "IDGRAPH_TOKEN, which must hold a token of at least 16"},
		{"a source's secret unset", serveSection + "okta: {org_url: https://acme.okta.com, token_env: OKTA_API_TOKEN, app_id: 0oa1}\n", serveEnv, "OKTA_API_TOKEN"},
		{"an alert sink's secret unset", serveSection + "alerts: {slack: {webhook_url_env: SLACK_WEBHOOK_URL}}\n", serveEnv, "SLACK_WEBHOOK_URL"},
		{"a certificate that does not load", strings.TrimSuffix(serveSection, "}\n") + ", tls_cert_file: none.pem, tls_key_file: none-key.pem}\n", serveEnv, "serve.tls_cert_file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.env, "serve", "--no-schedule", "-q", "-c", serveConfig(t, tt.yaml))
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, want 2 with %q:\n%s", r.code, tt.want, r.stderr)
			}
			for _, s := range []string{testToken, testSession, "alice-password"} {
				if strings.Contains(r.stderr, s) {
					t.Errorf("the error shows a secret: %s", r.stderr)
				}
			}
		})
	}
}

// syncBuffer is a log sink that the test reads while serve writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func writeCert(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idgraph test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// TestServeOverTLSWithStoredMetrics starts `idgraph serve` as an operator
// would, with a certificate (paths relative to the configuration) over a
// store a run filled: HTTPS answers, the metrics show that run before
// serve ran anything, and a cancelled context stops it with exit 0.
func TestServeOverTLSWithStoredMetrics(t *testing.T) {
	cfg := serveConfig(t, strings.TrimSuffix(serveSection, "}\n")+", tls_cert_file: cert.pem, tls_key_file: key.pem}\n")
	pool := writeCert(t, filepath.Dir(cfg))
	if r := run(t, nil, "run", "-q", "-c", cfg); r.code != 0 {
		t.Fatalf("run: exit %d %s", r.code, r.stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve", "--no-schedule", "-q", "-c", cfg}, strings.NewReader(""), io.Discard, &stderr,
			func(k string) string { return serveEnv[k] })
	}()
	addr := regexp.MustCompile(`msg=serving address=(https://127\.0\.0\.1:\d+) schedule="none \(--no-schedule\)"`)
	var base string
	for base == "" {
		select {
		case code := <-done:
			t.Fatalf("serve exited %d:\n%s", code, stderr.String())
		default:
		}
		if m := addr.FindStringSubmatch(stderr.String()); m != nil {
			base = m[1]
		}
		time.Sleep(5 * time.Millisecond)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(path string) (int, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("readyz over HTTPS: %d", code)
	}
	code, body := get("/metrics")
	if code != 200 || !strings.Contains(body, "idgraph_last_success_timestamp_seconds 1.") || !strings.Contains(body, `idgraph_source_complete{source="stonly"} 1`) {
		t.Errorf("metrics before serve's first run: %d\n%.2000s", code, body)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve stopped with exit %d:\n%s", code, stderr.String())
	}
}

// TestDoctorChecksServe: doctor checks serve's variables and certificate
// and names what to fix, without printing a secret.
func TestDoctorChecksServe(t *testing.T) {
	cfg := serveConfig(t, serveSection)
	r := run(t, serveEnv, "doctor", "-q", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"ok    serve: token_env", "ok    serve: users_env", "ok    serve: session_secret_env"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("no line %q:\n%s", want, r.stdout)
		}
	}
	for _, tt := range []struct {
		name string
		yaml string
		env  map[string]string
		want string
	}{
		{"token unset", serveSection, with(serveEnv, "IDGRAPH_TOKEN", ""), "FAIL  serve: token_env"},
		{"reviewers unset", serveSection, with(serveEnv, "IDGRAPH_USERS", ""), "FAIL  serve: users_env"},
		{"weak reviewer password", serveSection, with(serveEnv, "IDGRAPH_USERS", "alice@acme.com:short"), "at least 8 characters"},
		{"session secret unset", serveSection, with(serveEnv, "IDGRAPH_SESSION_SECRET", ""), "FAIL  serve: session_secret_env"},
		{"no session secret configured", "serve: {users_env: IDGRAPH_USERS}\n", serveEnv, "openssl rand"},
		{"no authentication", "serve: {listen: 127.0.0.1:0}\n", serveEnv, "FAIL  serve: authentication"},
		{"certificate missing", strings.TrimSuffix(serveSection, "}\n") + ", tls_cert_file: none.pem, tls_key_file: none-key.pem}\n", serveEnv, "FAIL  serve: TLS certificate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.env, "doctor", "-q", "-c", serveConfig(t, tt.yaml))
			if r.code != 1 || !strings.Contains(r.stdout, tt.want) {
				t.Fatalf("exit %d, want 1 and %q:\n%s%s", r.code, tt.want, r.stdout, r.stderr)
			}
			for _, s := range []string{testToken, testSession, "alice-password"} {
				if strings.Contains(r.stdout+r.stderr, s) {
					t.Errorf("doctor printed a secret:\n%s", r.stdout)
				}
			}
		})
	}
}
