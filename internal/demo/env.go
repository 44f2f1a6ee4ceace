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
	"strings"
	"sync"
	"time"

	"github.com/idgraph/idgraph/collectors/entra/graphtest"
	"github.com/idgraph/idgraph/collectors/okta/oktatest"
	"github.com/idgraph/idgraph/collectors/scim/scimtest"
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
	Notion     *scimtest.Server // the SCIM application; nil at scale
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
	sec := newSecrets()
	return start(c, dir, sec, c.Okta(sec["DEMO_OKTA_TOKEN"]), c.Entra(sec["DEMO_ENTRA_SECRET"]), c.Stonly("it-bot@acme.com", sec["DEMO_STONLY_PASSWORD"]),
		c.Notion(sec["DEMO_NOTION_TOKEN"]))
}

func newSecrets() map[string]string {
	return map[string]string{
		"DEMO_OKTA_TOKEN": "00demo" + secret(), "DEMO_ENTRA_SECRET": "demo~" + secret(), "DEMO_STONLY_PASSWORD": "demo-" + secret(),
		"DEMO_WEBHOOK_SECRET": secret(), "DEMO_NOTION_TOKEN": "scim-" + secret(),
	}
}

// Scale is the shape of a synthetic company.
type Scale struct {
	People  int // in Okta and in Entra
	Members int // in Stonly
	Teams   int // Stonly teams the members are spread over
	// Assigned is how many people the IdPs assign Stonly. 0 means a
	// consistent company: the members plus 2% assigned but never invited
	// (the IdPs say they should have an account; Stonly has none).
	Assigned int
}

// StartScale runs the simulators for a synthetic company at scale: People
// in Okta and in Entra (their generators' user<i>@acme.com, realistic
// statuses, guests, aliases and nested groups), the first Assigned of them
// assigned Stonly, and Members in Stonly over Teams teams, among them 2%
// leavers who kept their account and a few accounts nobody knows.
func StartScale(sc Scale, dir string) (*Env, error) {
	n, members, teams := sc.People, sc.Members, sc.Teams
	assigned := sc.Assigned
	if assigned == 0 {
		assigned = min(n, members+members/50)
	}
	sec := newSecrets()
	ok := oktatest.Generate(n, assigned, 1)
	ok.Token = sec["DEMO_OKTA_TOKEN"]
	en := graphtest.Generate(n, assigned)
	en.ClientSecret = sec["DEMO_ENTRA_SECRET"]
	st := &stonlytest.Scenario{Email: "it-bot@acme.com", Password: sec["DEMO_STONLY_PASSWORD"]}
	for t := 0; t < teams; t++ {
		st.Teams = append(st.Teams, stonlytest.Team{ID: fmt.Sprintf("T%02dscale", t), Name: fmt.Sprintf("Team %d", t+1)})
	}
	step := max(assigned/max(members, 1), 1) // members among the assigned
	for i := 0; i < members; i++ {
		u := i * step
		email := fmt.Sprintf("user%07d@acme.com", u)
		switch {
		case i%50 == 25: // a leaver: deprovisioned in Okta, disabled in Entra, still in Stonly
			ok.Users[u].Status = "DEPROVISIONED"
			en.Users[u].AccountEnabled = false
		case i%200 == 199:
			email = fmt.Sprintf("outsider%05d@gmail.com", i)
		}
		tm := &st.Teams[i%teams]
		role := "Member"
		switch {
		case len(tm.Members) == 0:
			role = "Owner"
		case i%10 == 0:
			role = "Admin"
		}
		tm.Members = append(tm.Members, stonlytest.Member{Name: fmt.Sprintf("User %d", u), Email: email, Role: role})
	}
	return start(nil, dir, sec, ok, en, st, nil)
}

func start(c *Company, dir string, sec map[string]string, ok *oktatest.Scenario, en *graphtest.Scenario, st *stonlytest.Scenario, notion *scimtest.Scenario) (*Env, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	e := &Env{Dir: dir, Company: c, AlertsFile: filepath.Join(dir, "alerts.jsonl"), secrets: sec}
	e.Okta = oktatest.NewServer(ok)
	e.Graph = graphtest.NewServer(en)
	e.Stonly = stonlytest.NewServer(st)
	e.Stonly.SetVariant(stonlytest.Variant{Paging: "loadmore", PageSize: 25, RenderDelay: 200 * time.Millisecond, LoadDelay: 50 * time.Millisecond})
	if notion != nil {
		e.Notion = scimtest.New(notion)
	}
	e.Receiver = httptest.NewServer(http.HandlerFunc(e.receive))
	e.secrets["DEMO_WEBHOOK_URL"] = e.Receiver.URL + "/hooks/idgraph"
	ca, err := e.Graph.WriteCA(dir)
	if err != nil {
		e.Close()
		return nil, err
	}
	g := e.Graph.Scenario()
	if e.Notion != nil {
		return e, e.writeConfig(fmt.Sprintf(twoApps, e.Okta.URL, e.Okta.Scenario().AppID, NotionOktaApp, g.TenantID, g.ClientID, g.SPID, NotionSPID,
			e.Graph.GraphURL(), e.Graph.TokenURL(), filepath.Base(ca), e.Stonly.URL, e.Notion.URL, strings.Join(NotionRoles, ", ")))
	}
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
	return e, e.writeConfig(cfg)
}

func (e *Env) writeConfig(cfg string) error {
	e.Config = filepath.Join(e.Dir, "idgraph.yaml")
	if err := os.WriteFile(e.Config, []byte(cfg), 0o600); err != nil {
		e.Close()
		return err
	}
	return nil
}

// twoApps is the demo company's configuration: Stonly and a SCIM
// application, each assigned through Okta and Entra, with its own ladder
// and role rules.
const twoApps = `# Written by idgraph demo: the built-in simulators, on this machine only.
# Secrets are named by environment variable, as in a real configuration.
store: idgraph.db
report:
  dir: report
okta:
  org_url: %s
  token_env: DEMO_OKTA_TOKEN
  apps: {stonly: %s, notion: %s}
entra:
  tenant_id: %s
  client_id: %s
  client_secret_env: DEMO_ENTRA_SECRET
  apps: {stonly: %s, notion: %s}
  graph_url: %s
  token_url: %s
  ca_file: %s
stonly:
  url: %s
  email: it-bot@acme.com
  password_env: DEMO_STONLY_PASSWORD
  debug_dir: stonly-debug
scim:
  - name: notion
    app: notion
    title: Notion
    url: %s
    token_env: DEMO_NOTION_TOKEN
    roles: [%s]
roles:
  stonly:
    - {okta_group: "Stonly Owners", role: Owner}
    - {okta_group: "Stonly Admins", role: Admin}
    - {entra_app_role: "Admin", role: Admin}
    - {default: Member}
  notion:
    - {okta_group: "Notion Admins", role: Workspace Admin}
    - {entra_app_role: "WorkspaceAdmin", role: Workspace Admin}
    - {default: Member}
domains:
  aliases: {acquisicorp.net: acme.com}
  strip_plus: true
alerts:
  webhook: {url_env: DEMO_WEBHOOK_URL, secret_env: DEMO_WEBHOOK_SECRET}
remediation:
  enabled: true                        # the demo carries out two revocations in its simulators
`

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
	if e.Receiver != nil {
		e.Receiver.Close()
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
	if e.Notion != nil {
		e.Notion.Close()
	}
}
