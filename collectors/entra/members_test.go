package entra

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/collectors/entra/graphtest"
)

// memberBodies are member pages with every kind of member Graph may list
// ("users, organizational contacts, devices, service principals and other
// groups", group: list members), members it returns with limited
// information, and @odata.type values the SDK did not take for a user or a
// group.
var memberBodies = map[string]string{
	"every kind": `{"@odata.context":"x","value":[
		{"@odata.type":"#microsoft.graph.user","id":" u1 ","displayName":"User 1"},
		{"@odata.type":"#microsoft.graph.group","id":"g1","displayName":" Nested Ops "},
		{"@odata.type":"#microsoft.graph.servicePrincipal","id":"sp1","displayName":"Robot"},
		{"@odata.type":"#microsoft.graph.device","id":"d1","displayName":"Laptop"},
		{"@odata.type":"#microsoft.graph.orgContact","id":"c1","displayName":"Contact"},
		{"@odata.type":"#microsoft.graph.application","id":"a1"},
		{"@odata.type":"#microsoft.graph.somethingNew","id":"n1","displayName":"New"}],
		"@odata.nextLink":"https://graph.example/v1.0/groups/g/members?$skiptoken=x"}`,
	"limited information": `{"value":[{"@odata.type":"#microsoft.graph.user","id":"u2","displayName":null},
		{"@odata.type":"#microsoft.graph.group","id":"g2","displayName":null}]}`,
	"types not exactly a user's or a group's": `{"value":[{"id":"u3"},{"@odata.type":null,"id":"u4"},
		{"@odata.type":"#Microsoft.Graph.User","id":"u5"},{"@odata.type":" #microsoft.graph.user","id":"u6"},
		{"@odata.type":"microsoft.graph.group","id":"g3","displayName":"G3"},{"@odata.type":"#microsoft.graph.directoryObject","id":"u7"}]}`,
	"empty":      `{"value":[]}`,
	"no value":   `{"@odata.nextLink":null}`,
	"odd values": `{"value":[{"@odata.type":"#microsoft.graph.user","id":"u8","displayName":"x","mail":"m","unknown":{"a":[1,2]}}],"@odata.count":1}`,
}

// classified is what readGroup keeps of a page: users, nested groups'
// names, and the next link.
type classified struct {
	users, groups []string
	next          string
}

func fromSDK(t *testing.T, body string) classified {
	t.Helper()
	n, err := absser.DefaultParseNodeFactoryInstance.GetRootParseNode("application/json", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	v, err := n.GetObjectValue(models.CreateDirectoryObjectCollectionResponseFromDiscriminatorValue)
	if err != nil {
		t.Fatal(err)
	}
	p := v.(models.DirectoryObjectCollectionResponseable)
	var c classified
	for _, o := range p.GetValue() {
		switch m := o.(type) {
		case models.Userable:
			c.users = append(c.users, str(m.GetId()))
		case models.Groupable:
			c.groups = append(c.groups, str(m.GetDisplayName()))
		}
	}
	c.next = str(p.GetOdataNextLink())
	return c
}

func fromLean(t *testing.T, body string) classified {
	t.Helper()
	var p membersPage
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	var c classified
	for _, m := range p.GetValue() {
		switch m.kind() {
		case memberUser:
			c.users = append(c.users, strings.TrimSpace(m.ID))
		case memberGroup:
			c.groups = append(c.groups, strings.TrimSpace(m.DisplayName))
		}
	}
	c.next = str(p.GetOdataNextLink())
	return c
}

// TestMembersDecodeAsTheSDK decodes each page both ways, through the SDK's
// models as the collector did and lean, and wants the same users, groups
// and next link.
func TestMembersDecodeAsTheSDK(t *testing.T) {
	// A client registers the SDK's JSON parse node factory.
	_, c := start(t, graphtest.Generate(5, 1))
	if _, err := c.client(&counter{}); err != nil {
		t.Fatal(err)
	}
	for name, body := range memberBodies {
		t.Run(name, func(t *testing.T) {
			sdk, lean := fromSDK(t, body), fromLean(t, body)
			if !slices.Equal(sdk.users, lean.users) || !slices.Equal(sdk.groups, lean.groups) || sdk.next != lean.next {
				t.Errorf("SDK %+v, lean %+v", sdk, lean)
			}
		})
	}
	if got := fromLean(t, memberBodies["every kind"]); !slices.Equal(got.users, []string{"u1"}) || !slices.Equal(got.groups, []string{"Nested Ops"}) {
		t.Errorf("every kind: %+v, want user u1 and group Nested Ops only", got)
	}
}

// TestMemberPages serves the members of Stonly Admins in pages of mixed
// members, one of them empty, and wants the direct users assigned, the
// users reached through the nested group explained, every other member
// left out, and each page asked for through the SDK (a token, $select).
func TestMemberPages(t *testing.T) {
	sc := graphtest.Generate(50, 10)
	u := func(i int) string { return graphtest.GUID(7, i) }
	admins := graphtest.GUID(6, 2)
	pages := map[string][]string{
		"members": {
			`{"value":[{"@odata.type":"#microsoft.graph.user","id":" ` + u(21) + ` ","displayName":"User 21"},
				{"@odata.type":"#microsoft.graph.servicePrincipal","id":"` + graphtest.GUID(3, 9) + `","displayName":"Robot"},
				{"@odata.type":"#microsoft.graph.device","id":"` + graphtest.GUID(8, 1) + `"},
				{"@odata.type":"#microsoft.graph.orgContact","id":"` + graphtest.GUID(8, 2) + `","displayName":"Contact"},
				{"@odata.type":"#microsoft.graph.somethingNew","id":"` + u(22) + `"},
				{"id":"` + u(23) + `"},{"@odata.type":"#Microsoft.Graph.User","id":"` + u(24) + `"}],"@odata.nextLink":"NEXT"}`,
			`{"value":[],"@odata.nextLink":"NEXT"}`,
			`{"value":[{"@odata.type":"#microsoft.graph.group","id":"` + graphtest.GUID(6, 9) + `","displayName":" Nested Ops "},
				{"@odata.type":"#microsoft.graph.user","id":"` + u(25) + `","displayName":"User 25"}],"@odata.nextLink":null}`,
		},
		"transitiveMembers": {
			`{"value":[{"@odata.type":"#microsoft.graph.user","id":"` + u(21) + `"},{"@odata.type":"#microsoft.graph.user","id":"` + u(26) + `"},
				{"@odata.type":"#microsoft.graph.group","id":"` + graphtest.GUID(6, 9) + `","displayName":"Nested Ops"}],"@odata.nextLink":"NEXT"}`,
			`{"value":[{"@odata.type":"#microsoft.graph.servicePrincipal","id":"` + graphtest.GUID(3, 9) + `"},
				{"@odata.type":"#microsoft.graph.user","id":"` + u(25) + `"},{"@odata.type":"#microsoft.graph.user","id":"` + u(27) + `"}]}`,
		},
	}
	srv := graphtest.NewUnstarted(sc)
	inner := srv.Config.Handler
	served := map[string]int{}
	var bad []string
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, ok := strings.CutPrefix(r.URL.Path, "/v1.0/groups/"+admins+"/")
		if !ok || pages[list] == nil {
			inner.ServeHTTP(w, r)
			return
		}
		q := r.URL.Query()
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") || q.Get("$select") != "id,displayName" || q.Get("$top") != "999" {
			bad = append(bad, r.URL.String())
		}
		i := served[list]
		served[list]++
		next := fmt.Sprintf("https://%s%s?$select=id,displayName&$top=999&$skiptoken=p%d", r.Host, r.URL.Path, i+1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, strings.ReplaceAll(pages[list][i], "NEXT", next))
	})
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca, err := srv.WriteCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCollector(Config{TenantID: sc.TenantID, ClientID: sc.ClientID, ClientSecretEnv: "S", ServicePrincipalID: sc.SPID,
		GraphURL: srv.GraphURL(), TokenURL: srv.TokenURL(), CAFile: ca, MaxRetryWait: 20 * time.Second},
		collectors.Env{File: "t.yaml", Getenv: func(string) string { return sc.ClientSecret }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if served["members"] != 3 || served["transitiveMembers"] != 2 || len(bad) > 0 {
		t.Errorf("pages served %v, requests without a token, $select or $top: %v", served, bad)
	}
	byID := map[string]collectors.Account{}
	for _, a := range res.Accounts {
		byID[a.ID] = a
	}
	for _, i := range []int{21, 25} {
		a := byID[u(i)]
		if as := asg(a, ""); !as.InForce || !slices.Equal(a.Groups, []string{"Stonly Admins"}) || !slices.Equal(as.Roles, []string{"Admin"}) || len(a.NestedGroups) != 0 {
			t.Errorf("user %d, a direct member of Stonly Admins: %+v", i, a)
		}
	}
	for _, i := range []int{26, 27} {
		a := byID[u(i)]
		if a.AssignedTo("") || len(a.NestedGroups) != 1 || !strings.HasPrefix(a.NestedGroups[0], "Stonly Admins (nested: through Nested Ops;") {
			t.Errorf("user %d, reached through Nested Ops: %+v", i, a)
		}
	}
	for _, i := range []int{22, 23, 24} {
		if a := byID[u(i)]; a.AssignedTo("") || len(a.Groups)+len(a.NestedGroups) != 0 {
			t.Errorf("user %d is listed as no user (%s), yet: %+v", i, "another type, none, or a type spelt otherwise", a)
		}
	}
	wantMembers := 2 // Stonly Admins: users 21 and 25
	for _, m := range sc.Groups[0].Members {
		if strings.Contains(m, "-0007-") {
			wantMembers++
		}
	}
	for _, p := range res.Completeness.Parts {
		if p.ID == "group_members" && p.Records != wantMembers {
			t.Errorf("group_members part: %d records, want %d", p.Records, wantMembers)
		}
	}
}
