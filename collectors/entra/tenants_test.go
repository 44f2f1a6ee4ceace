package entra

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/entra/graphtest"
)

// factory builds the sources of an entra: section through the registry,
// as the run does.
func factory(t *testing.T, text string, secrets map[string]string) ([]collectors.Collector, error) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	f, ok := collectors.Lookup("entra")
	if !ok {
		t.Fatal("entra is not registered")
	}
	return f(doc.Content[0], collectors.Env{File: "idgraph.yaml", Getenv: func(k string) string { return secrets[k] }})
}

// tenantYAML is one tenant's keys, indented for a list item.
func tenantYAML(t *testing.T, srv *graphtest.Server, sc *graphtest.Scenario, secretEnv, apps string) string {
	ca, err := srv.WriteCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("  tenant_id: %s\n  client_id: %s\n  client_secret_env: %s\n  %s\n  graph_url: %s\n  token_url: %s\n  ca_file: %s\n",
		sc.TenantID, sc.ClientID, secretEnv, apps, srv.GraphURL(), srv.TokenURL(), ca)
}

// TestSeveralTenants: entra: as a list configures one source per tenant,
// named by its name, of type entra; each reads its own tenant.
func TestSeveralTenants(t *testing.T) {
	acme := graphtest.Generate(300, 50)
	acq := graphtest.Generate(120, 30)
	acq.TenantID, acq.ClientID, acq.ClientSecret = graphtest.GUID(1, 2), graphtest.GUID(2, 2), "sim~second.tenant-secret"
	s1, s2 := graphtest.NewServer(acme), graphtest.NewServer(acq)
	t.Cleanup(s1.Close)
	t.Cleanup(s2.Close)
	secrets := map[string]string{"ACME_SECRET": acme.ClientSecret, "ACQ_SECRET": acq.ClientSecret}
	text := "- name: entra-acme\n" + tenantYAML(t, s1, acme, "ACME_SECRET", "service_principal_id: "+acme.SPID) +
		"- name: entra-acquired\n" + tenantYAML(t, s2, acq, "ACQ_SECRET", "apps: {stonly: "+acq.SPID+"}")
	cs, err := factory(t, text, secrets)
	if err != nil || len(cs) != 2 {
		t.Fatalf("%v, %d sources", err, len(cs))
	}
	for i, tt := range []struct {
		name  string
		users int
		app   string
	}{{"entra-acme", 300, ""}, {"entra-acquired", 120, "stonly"}} {
		info := cs[i].Info()
		if info.Name != tt.name || info.Type != "entra" || info.Kind != collectors.KindIdP {
			t.Errorf("info %+v, want name %s, type entra", info, tt.name)
		}
		res, err := cs[i].Collect(context.Background(), collectors.Request{})
		if err != nil || res.Completeness.Source != tt.name || len(res.Accounts) != tt.users {
			t.Fatalf("%s: err %v, source %q, %d accounts", tt.name, err, res.Completeness.Source, len(res.Accounts))
		}
		for _, a := range res.Accounts {
			if a.Source != tt.name {
				t.Fatalf("%s: account of source %q", tt.name, a.Source)
			}
		}
		if a := byUPN(res.Accounts)["user0000000@acme.com"]; !a.AssignedTo(tt.app) {
			t.Errorf("%s: assignments of app %q: %+v", tt.name, tt.app, a.Assignments)
		}
		if len(res.Policies) != 1 || res.Policies[0].App != tt.app {
			t.Errorf("%s: policies %+v", tt.name, res.Policies)
		}
	}
	if n := s2.Stats().Tokens; n == 0 {
		t.Error("the second tenant's source must get its token from the second tenant")
	}

	// The mapping form is the source "entra", as before.
	cs, err = factory(t, strings.ReplaceAll(tenantYAML(t, s1, acme, "ACME_SECRET", "service_principal_id: "+acme.SPID), "\n  ", "\n")[2:], secrets)
	if err != nil || len(cs) != 1 || cs[0].Info().Name != "entra" || cs[0].Info().Type != "entra" {
		t.Fatalf("mapping form: %v %+v", err, cs)
	}
	// A tenant's configuration error names that tenant.
	_, err = factory(t, "- name: entra-acme\n"+tenantYAML(t, s1, acme, "ACME_SECRET", "service_principal_id: "+acme.SPID)+
		"- name: entra-acquired\n  client_id: x\n  client_secret_env: ACQ_SECRET\n  service_principal_id: "+acq.SPID+"\n", secrets)
	if err == nil || !strings.Contains(err.Error(), "entra[entra-acquired].tenant_id is required") {
		t.Errorf("error %v, want it to name the tenant", err)
	}
}
