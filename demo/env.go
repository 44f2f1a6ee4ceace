package demo

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/idgraph/idgraph/collectors/entra/graphtest"
	"github.com/idgraph/idgraph/collectors/okta/oktatest"
	"github.com/idgraph/idgraph/collectors/stonly/stonlytest"
	"github.com/idgraph/idgraph/report/alert"
)

// Env is a running demo: the three simulators, an alert receiver, and the
// configuration file that points idgraph at them.
type Env struct {
	Dir        string
	Config     string
	Company    *Company
	Okta       *oktatest.Server
	Graph      *graphtest.Server
	Stonly     *stonlytest.Server
	Receiver   *httptest.Server
	AlertsFile string
	secrets    map[string]string
	mu         sync.Mutex
}

func secret() string {
	b := make([]byte, 18)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Start runs the simulators for c on 127.0.0.1 and writes dir/idgraph.yaml.
// Secrets are made up for this run and handed over through Getenv: the
// file names environment variables, as a real configuration does.
func Start(c *Company, dir string) (*Env, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	e := &Env{Dir: dir, Company: c, AlertsFile: filepath.Join(dir, "alerts.jsonl"), secrets: map[string]string{
		"DEMO_OKTA_TOKEN": "00demo" + secret(), "DEMO_ENTRA_SECRET": "demo~" + secret(), "DEMO_STONLY_PASSWORD": "demo-" + secret(),
		"DEMO_WEBHOOK_SECRET": secret(),
	}}
	e.Okta = oktatest.NewServer(c.Okta(e.secrets["DEMO_OKTA_TOKEN"]))
	e.Graph = graphtest.NewServer(c.Entra(e.secrets["DEMO_ENTRA_SECRET"]))
	e.Stonly = stonlytest.NewServer(c.Stonly("it-bot@acme.com", e.secrets["DEMO_STONLY_PASSWORD"]))
	e.Stonly.SetVariant(stonlytest.Variant{Paging: "loadmore", PageSize: 25, RenderDelay: 200 * time.Millisecond, LoadDelay: 50 * time.Millisecond})
	e.Receiver = httptest.NewServer(http.HandlerFunc(e.receive))
	e.secrets["DEMO_WEBHOOK_URL"] = e.Receiver.URL + "/hooks/idgraph"
	ca, err := e.Graph.WriteCA(dir)
	if err != nil {
		e.Close()
		return nil, err
	}
	g := e.Graph.Scenario()
	cfg := fmt.Sprintf(`# Written by idgraph demo: the built-in simulators, on this machine only.
# Secrets are named by environment variable, as in a real configuration.
store: idgraph.db
report:
  dir: report
okta:
  org_url: %s
  token_env: DEMO_OKTA_TOKEN
  app_id: %s
entra:
  tenant_id: %s
  client_id: %s
  client_secret_env: DEMO_ENTRA_SECRET
  service_principal_id: %s
  graph_url: %s
  token_url: %s
  ca_file: %s
stonly:
  url: %s
  email: it-bot@acme.com
  password_env: DEMO_STONLY_PASSWORD
  debug_dir: stonly-debug
roles:
  - {okta_group: "Stonly Owners", role: Owner}
  - {okta_group: "Stonly Admins", role: Admin}
  - {entra_app_role: "Admin", role: Admin}
  - {default: Member}
domains:
  aliases: {acquisicorp.net: acme.com}
  strip_plus: true
alerts:
  webhook: {url_env: DEMO_WEBHOOK_URL, secret_env: DEMO_WEBHOOK_SECRET}
`, e.Okta.URL, e.Okta.Scenario().AppID, g.TenantID, g.ClientID, g.SPID, e.Graph.GraphURL(), e.Graph.TokenURL(), filepath.Base(ca), e.Stonly.URL)
	e.Config = filepath.Join(dir, "idgraph.yaml")
	if err := os.WriteFile(e.Config, []byte(cfg), 0o600); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// Getenv hands the demo's secrets to idgraph.
func (e *Env) Getenv(k string) string { return e.secrets[k] }

// Secrets lists the secret values, for tests that grep outputs for them.
func (e *Env) Secrets() []string {
	var out []string
	for _, v := range e.secrets {
		out = append(out, v)
	}
	return out
}

// receive is the security team's webhook: it checks the signature and
// appends each alert to alerts.jsonl.
func (e *Env) receive(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ok := alert.Verify([]byte(e.secrets["DEMO_WEBHOOK_SECRET"]), r.Header.Get("X-Idgraph-Timestamp"), r.Header.Get("X-Idgraph-Signature"), body, time.Now(), 5*time.Minute)
	if !ok {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	line, _ := json.Marshal(map[string]any{"received_at": time.Now().UTC().Format(time.RFC3339), "signature_verified": ok, "alert": json.RawMessage(body)})
	e.mu.Lock()
	defer e.mu.Unlock()
	f, err := os.OpenFile(e.AlertsFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer f.Close()
	f.Write(append(line, '\n'))
}

// Overnight applies the changes between the demo's two runs: Quentin
// leaves but keeps his Stonly Admin account, Frank is promoted to Admin in
// Stonly though the IdPs say Member, Carol is finally assigned in Okta,
// and Nora joins and is given Stonly properly.
func (e *Env) Overnight() {
	c := e.Company
	q := c.Find("quentin.quitter@acme.com")
	q.Okta.Status, q.Okta.StatusChanged, q.Okta.Groups = "DEPROVISIONED", time.Now().Add(-10*time.Hour).UTC(), nil
	q.Entra.Enabled, q.Entra.Groups = false, nil
	c.Find("frank.excess@acme.com").Stonly[0].Role = "Admin"
	carol := c.Find("carol.bypass@acme.com")
	carol.Okta.Groups = append(carol.Okta.Groups, OktaUsers)
	nora := "nora.newhire@acme.com"
	c.People = append(c.People, Person{Name: "Nora Newhire", Email: nora, EmployeeID: "E00099",
		Okta:   &OktaUser{ID: oktaID(len(c.People)), Status: "ACTIVE", Login: nora, Groups: []string{OktaUsers}},
		Stonly: []Membership{{Team: Teams[1].ID, Role: "Member", Email: nora}}, Note: "joined overnight"})
	tok := e.Okta.Scenario().Token
	e.Okta.Update(func(sc *oktatest.Scenario) { *sc = *c.Okta(tok) })
	e.Graph.ChangeUser(q.Entra.ID, func(u *graphtest.User) { u.AccountEnabled = false })
	e.Graph.Update(func(sc *graphtest.Scenario) {
		fresh := c.Entra(sc.ClientSecret)
		sc.Groups, sc.Assignments = fresh.Groups, fresh.Assignments
	})
	email, pw := "it-bot@acme.com", e.secrets["DEMO_STONLY_PASSWORD"]
	e.Stonly.Update(func(sc *stonlytest.Scenario) { *sc = *c.Stonly(email, pw) })
}

// Close stops everything.
func (e *Env) Close() {
	for _, s := range []*httptest.Server{e.Receiver} {
		if s != nil {
			s.Close()
		}
	}
	if e.Okta != nil {
		e.Okta.Close()
	}
	if e.Graph != nil {
		e.Graph.Close()
	}
	if e.Stonly != nil {
		e.Stonly.Close()
	}
}
