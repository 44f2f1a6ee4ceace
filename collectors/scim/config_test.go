package scim

import (
	"context"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/scim/scimtest"
)

func build(t *testing.T, doc string) ([]collectors.Collector, error) {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatal(err)
	}
	node := root.Content[0].Content[1] // the value of the scim key
	f, ok := collectors.Lookup("scim")
	if !ok {
		t.Fatal("scim is not registered")
	}
	env := collectors.Env{File: "idgraph.yaml", Getenv: func(k string) string {
		if k == "NOTION_SCIM_TOKEN" || k == "MIRO_TOKEN" {
			return secretToken
		}
		return ""
	}}
	return f(node, env)
}

func TestConfig(t *testing.T) {
	t.Run("one mapping", func(t *testing.T) {
		cs, err := build(t, `
scim:
  app: notion
  url: https://api.notion.com/scim/v2/
  token_env: NOTION_SCIM_TOKEN
  roles: [Member, Admin, Owner]
`)
		if err != nil {
			t.Fatal(err)
		}
		c := cs[0].(*Collector)
		info := c.Info()
		if len(cs) != 1 || info.Name != "scim" || info.Title != "Notion" || c.cfg.URL != "https://api.notion.com/scim/v2" ||
			c.cfg.PageSize != defaultPageSize || c.cfg.Timeout != defaultTimeout || c.role.kind != "roles" || c.cfg.DeleteOnRemove {
			t.Errorf("built %+v with %+v", info, c.cfg)
		}
	})
	t.Run("a list with names", func(t *testing.T) {
		cs, err := build(t, `
scim:
  - name: notion
    app: notion
    url: https://api.notion.com/scim/v2
    token_env: NOTION_SCIM_TOKEN
    roles: [Member, Admin, Owner]
  - name: miro
    app: miro
    title: Miro Boards
    url: https://miro.com/api/v1/scim
    token_env: MIRO_TOKEN
    roles: [Member, Admin]
    role_attribute: urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department
    page_size: 50
    delete_on_remove: true
    timeout: 30s
`)
		if err != nil {
			t.Fatal(err)
		}
		m := cs[1].(*Collector)
		if len(cs) != 2 || cs[0].Info().Name != "notion" || m.Info().Name != "miro" || m.Info().Title != "Miro Boards" ||
			m.role.ext != enterpriseSchema || m.role.attr != "department" || m.cfg.PageSize != 50 || !m.cfg.DeleteOnRemove {
			t.Errorf("built %+v and %+v (%+v)", cs[0].Info(), m.Info(), m.cfg)
		}
	})
	errs := []struct {
		name, doc, want string
	}{
		{"missing app", `scim: {url: "https://x.example/scim/v2", token_env: NOTION_SCIM_TOKEN, roles: [Member]}`,
			"idgraph.yaml: scim.app is required"},
		{"missing url", `scim: {app: notion, token_env: NOTION_SCIM_TOKEN, roles: [Member]}`,
			"idgraph.yaml: scim.url is required"},
		{"relative url", `scim: {app: notion, url: /scim/v2, token_env: NOTION_SCIM_TOKEN, roles: [Member]}`,
			"scim.url \"/scim/v2\" is not an absolute http(s) URL"},
		{"plain http to a remote host", `scim: {app: notion, url: "http://scim.example.com/v2", token_env: NOTION_SCIM_TOKEN, roles: [Member]}`,
			"must use https"},
		{"missing token_env", `scim: {app: notion, url: "https://x.example/scim/v2", roles: [Member]}`,
			"idgraph.yaml: scim.token_env is required"},
		{"token variable unset", `scim: {app: notion, url: "https://x.example/scim/v2", token_env: UNSET_VAR, roles: [Member]}`,
			"idgraph.yaml: scim.token_env names environment variable UNSET_VAR, which is not set or empty"},
		{"missing roles", `scim: {app: notion, url: "https://x.example/scim/v2", token_env: NOTION_SCIM_TOKEN}`,
			"idgraph.yaml: scim.roles is required"},
		{"a role twice", `scim: {app: notion, url: "https://x.example/scim/v2", token_env: NOTION_SCIM_TOKEN, roles: [Member, member]}`,
			"scim.roles names \"member\" twice"},
		{"unknown key", "scim:\n  app: notion\n  url: https://x.example/scim/v2\n  token_env: NOTION_SCIM_TOKEN\n  roles: [Member]\n  page_sise: 10\n",
			"idgraph.yaml:6: unknown key \"scim.page_sise\""},
		{"unknown key in a list entry", "scim:\n  - name: notion\n    app: notion\n    tokn_env: X\n",
			"idgraph.yaml:4: unknown key \"scim[0].tokn_env\""},
		{"a list entry without app names it", "scim:\n  - name: notion\n    url: https://x.example/scim/v2\n",
			"idgraph.yaml: scim[name=notion].app is required"},
		{"bad role_attribute", `scim: {app: notion, url: "https://x.example/scim/v2", token_env: NOTION_SCIM_TOKEN, roles: [Member], role_attribute: "emails"}`,
			"scim.role_attribute: \"emails\" carries no role"},
		{"role_attribute not a path", `scim: {app: notion, url: "https://x.example/scim/v2", token_env: NOTION_SCIM_TOKEN, roles: [Member], role_attribute: "a b"}`,
			"scim.role_attribute: \"a b\" is not an attribute path"},
		{"page_size out of range", `scim: {app: notion, url: "https://x.example/scim/v2", token_env: NOTION_SCIM_TOKEN, roles: [Member], page_size: 5000}`,
			"scim.page_size is 5000; give 1 to 1000"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := build(t, tt.doc)
			if err == nil {
				t.Fatal("built")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secretToken) {
				t.Error("the token appears in the error")
			}
		})
	}
}

func TestConfiguredSourceReadsTheSimulator(t *testing.T) {
	sc := scimtest.Many(12)
	sc.Token = secretToken
	srv := scimtest.New(sc)
	defer srv.Close()
	cs, err := build(t, `
scim:
  - name: notion
    app: notion
    url: `+srv.URL+`
    token_env: NOTION_SCIM_TOKEN
    roles: [Member, Admin, Owner]
    role_attribute: groups
    page_size: 5
`)
	if err != nil {
		t.Fatal(err)
	}
	var stages []collectors.Progress
	res, err := cs[0].Collect(context.Background(), collectors.Request{Progress: func(p collectors.Progress) { stages = append(stages, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Accounts) != 12 || res.Completeness.Pages != 3 || len(stages) != 3 || stages[2].Records != 12 || stages[2].Source != "notion" {
		t.Errorf("accounts=%d pages=%d progress=%+v", len(res.Accounts), res.Completeness.Pages, stages)
	}
	if a := byID(res.Accounts)["u-0010"]; a.Role != "Admin" || a.Email != "user0010@acme.com" {
		t.Errorf("u-0010 = %+v", a)
	}
}
