package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestParseErrors(t *testing.T) {
	sources := []string{"okta", "csvfile"}
	tests := []struct {
		name string
		yaml string
		want string // substring of the error
	}{
		{"typo in a core key", "store: x.db\nroels: []\n", `idgraph.yaml:2: unknown key "roels" (did you mean "roles"?)`},
		{"typo in a source key", "store: x.db\nokat: {}\n", `unknown key "okat" (did you mean "okta"?)`},
		{"nested unknown key", "store: x.db\ndomains:\n  alias: {}\n", `idgraph.yaml:3: unknown key "domains.alias"`},
		{"unknown key in a list item", "store: x.db\nroles:\n  - {okta_grp: A, role: Admin}\n", `unknown key "roles[0].okta_grp"`},
		{"missing store", "roles: []\n", "store is required"},
		{"empty file", "", "the file is empty"},
		{"not a mapping", "- a\n- b\n", "must be a YAML mapping"},
		{"duplicate key", "store: a.db\nstore: b.db\n", `key "store" appears twice`},
		{"rule without role", "store: x.db\nroles:\n  - {okta_group: A}\n", "roles[0]: role is required"},
		{"rule with two matchers", "store: x.db\nroles:\n  - {okta_group: A, entra_app_role: B, role: Admin}\n", "needs exactly one"},
		{"rules of an application not a list", "store: x.db\nroles:\n  stonly: {okta_group: A, role: Admin}\n", "roles.stonly must be a list of rules"},
		{"rule of an application without role", "store: x.db\nroles:\n  notion:\n    - {okta_group: A}\n", "roles.notion[0]: role is required"},
		{"unknown key in an application's rule", "store: x.db\nroles:\n  notion:\n    - {okta_grp: A, role: Admin}\n", `unknown key "roles.notion[0].okta_grp"`},
		{"two defaults", "store: x.db\nroles:\n  - {default: Member}\n  - {default: Admin}\n", "2 default rules"},
		{"alias with @", "store: x.db\ndomains:\n  aliases: {a@b.com: c.com}\n", "must map a domain to a domain"},
		{"guard out of range", "store: x.db\nguard: {max_drop: 1.5}\n", "guard.max_drop"},
		{"source timeout too short", "store: x.db\nguard: {source_timeout: 10ms}\n", "guard.source_timeout must be at least 1s"},
		{"approval bound too short", "store: x.db\nreview: {max_approval: 1h}\n", "review.max_approval must be at least 24h"},
		{"unknown evidence key", "store: x.db\nevidence: {log: x}\n", "log"},
		{"bad yaml", "store: [\n", "idgraph.yaml"},
		{"wrong type", "store: x.db\nroles: 5\n", "idgraph.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "/etc/idgraph.yaml", sources)
			if err == nil {
				t.Fatalf("no error for %q", tt.yaml)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("error %v is not a *config.Error", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	y := `store: idgraph.db
okta:
  org_url: https://acme.okta.com
roles:
  - {okta_group: "Stonly Admins", role: Admin}
  - {entra_app_role: "Admin", role: admin}
  - {default: Member}
domains:
  aliases: {acquisicorp.net: acme.com}
serve:
  listen: 127.0.0.1:8080
  token_env: IDGRAPH_TOKEN
  schedule: "0 2 * * *"
`
	cfg, err := Parse([]byte(y), "/etc/idgraph/idgraph.yaml", []string{"okta"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Path(cfg.Store) != "/etc/idgraph/idgraph.db" {
		t.Errorf("store path %q", cfg.Path(cfg.Store))
	}
	if len(cfg.Sources) != 1 || cfg.Sources[0].Name != "okta" || cfg.Sources[0].Node.Kind != yaml.MappingNode {
		t.Errorf("sources = %+v", cfg.Sources)
	}
	if len(cfg.Roles[""]) != 3 || cfg.Domains.Aliases["acquisicorp.net"] != "acme.com" || cfg.MaxDrop() != DefaultMaxDrop {
		t.Errorf("cfg = %+v", cfg)
	}
	if len(cfg.Hash) != 64 {
		t.Errorf("hash %q", cfg.Hash)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("err = %v", err)
	}
}

func TestDecodeStrict(t *testing.T) {
	type okta struct {
		OrgURL   string `yaml:"org_url"`
		TokenEnv string `yaml:"token_env"`
	}
	var doc yaml.Node
	yaml.Unmarshal([]byte("org_url: x\ntokn_env: Y\n"), &doc)
	var o okta
	err := DecodeStrict(doc.Content[0], &o, "okta", "f.yaml")
	if err == nil || !strings.Contains(err.Error(), `f.yaml:2: unknown key "okta.tokn_env" (did you mean "token_env"?)`) {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	entries, _ := filepath.Glob("../testdata/*/*.yaml")
	for _, e := range entries {
		if b, err := os.ReadFile(e); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("store: x\nroles: [{default: Member}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := Parse(b, "fuzz.yaml", []string{"okta", "csvfile"})
		if err == nil && cfg.Store == "" {
			t.Fatal("accepted a configuration without a store")
		}
	})
}

func TestServeKeys(t *testing.T) {
	y := `store: x.db
serve:
  users_env: IDGRAPH_USERS
  session_secret_env: IDGRAPH_SESSION_SECRET
  tls_cert_file: tls/cert.pem
  tls_key_file: tls/key.pem
  trust_proxy: true
`
	cfg, err := Parse([]byte(y), "/etc/idgraph/idgraph.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Serve
	if s.SessionSecretEnv != "IDGRAPH_SESSION_SECRET" || !s.TrustProxy || cfg.Path(s.TLSCertFile) != "/etc/idgraph/tls/cert.pem" || cfg.Path(s.TLSKeyFile) != "/etc/idgraph/tls/key.pem" {
		t.Errorf("serve = %+v", s)
	}
	for _, tt := range []struct{ name, yaml, want string }{
		{"certificate without key", "store: x.db\nserve: {tls_cert_file: c.pem}\n", "serve.tls_cert_file and serve.tls_key_file go together"},
		{"key without certificate", "store: x.db\nserve: {tls_key_file: k.pem}\n", "serve.tls_cert_file and serve.tls_key_file go together"},
		{"misspelt key", "store: x.db\nserve: {session_secret_evn: X}\n", `unknown key "serve.session_secret_evn" (did you mean "session_secret_env"?)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "idgraph.yaml", nil)
			var ce *Error
			if err == nil || !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a *config.Error with %q", err, tt.want)
			}
		})
	}
}

func TestRunMemoryLimit(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		bad  bool
	}{{"", 0, false}, {"0", 0, false}, {"2GiB", 2 << 30, false}, {"512MiB", 512 << 20, false}, {"100B", 100, false},
		{"2GB", 0, true}, {"lots", 0, true}, {"-1GiB", 0, true}} {
		got, err := Run{MemoryLimit: tt.in}.Bytes()
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("%q: %d, %v; want %d (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
	if _, err := Parse([]byte("store: x.db\nrun: {memory_limit: 2 gigs}\n"), "idgraph.yaml", nil); err == nil || !strings.Contains(err.Error(), "run.memory_limit") {
		t.Errorf("a bad memory limit: %v", err)
	}
}
