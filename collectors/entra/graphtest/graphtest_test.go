package graphtest

// The simulator's delta and resync answers, read raw (no SDK), against
// Microsoft's "user: delta" reference and the delta query overview.

import (
	"encoding/json"
	"net/http"
	neturl "net/url"
	"slices"
	"strings"
	"testing"
)

func token(t *testing.T, s *Server) string {
	t.Helper()
	resp, err := s.Client().PostForm(s.TokenURL(), neturl.Values{"grant_type": {"client_credentials"}, "client_id": {s.sc.ClientID},
		"client_secret": {s.sc.ClientSecret}, "scope": {"https://graph.microsoft.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v", err)
	}
	return tok.AccessToken
}

func get(t *testing.T, s *Server, tok, u string, prefer ...string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	for _, p := range prefer {
		req.Header.Add("Prefer", p)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp, body
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestDeltaItems(t *testing.T) {
	const sel = "id,displayName,userPrincipalName,mail,accountEnabled"
	for _, tt := range []struct {
		name         string
		prefer       []string
		variant      Variant
		wantDisabled []string // keys of the changed user's item
		wantRenamed  []string
	}{
		// Default: every selected property ever set, changed or not.
		{"default", nil, Variant{}, []string{"accountEnabled", "displayName", "id", "mail", "userPrincipalName"}, []string{"accountEnabled", "displayName", "id", "userPrincipalName"}},
		// return=minimal: only id and what changed, a cleared property as null.
		{"return=minimal", []string{"odata.maxpagesize=999", "return=minimal"}, Variant{}, []string{"accountEnabled", "id"}, []string{"displayName", "id"}},
		{"partial items variant", nil, Variant{PartialDeltaItems: true}, []string{"accountEnabled", "id"}, []string{"displayName", "id"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := Generate(20, 5)
			sc.Users[3].Mail = "" // never set
			s := NewServer(sc)
			defer s.Close()
			s.SetVariant(tt.variant)
			tok := token(t, s)
			_, latest := get(t, s, tok, s.GraphURL()+"/users/delta()?$select="+sel+"&$deltatoken=latest")
			link, _ := latest["@odata.deltaLink"].(string)
			if !strings.Contains(link, "$deltatoken=") || len(latest["value"].([]any)) != 0 {
				t.Fatalf("latest: %v", latest)
			}
			s.ChangeUser(GUID(7, 4), func(u *User) { u.AccountEnabled = false })
			s.ChangeUser(GUID(7, 3), func(u *User) { u.DisplayName = "Renamed" })
			s.ChangeUser(GUID(7, 5), func(u *User) { u.JobTitle = "not selected" })
			s.DeleteUser(GUID(7, 6))
			s.PurgeUser(GUID(7, 7))
			_, body := get(t, s, tok, link, tt.prefer...)
			items := map[string]map[string]any{}
			for _, v := range body["value"].([]any) {
				m := v.(map[string]any)
				items[m["id"].(string)] = m
			}
			if len(items) != 4 {
				t.Fatalf("items %v: want users 3, 4 and the two removed; a change of an unselected property lists nobody", body["value"])
			}
			if got := keys(items[GUID(7, 4)]); !slices.Equal(got, tt.wantDisabled) {
				t.Errorf("changed accountEnabled: keys %v, want %v", got, tt.wantDisabled)
			}
			if got := keys(items[GUID(7, 3)]); !slices.Equal(got, tt.wantRenamed) {
				t.Errorf("renamed user without mail: keys %v, want %v", got, tt.wantRenamed)
			}
			for id, reason := range map[string]string{GUID(7, 6): "changed", GUID(7, 7): "deleted"} {
				rm, _ := items[id]["@removed"].(map[string]any)
				if rm["reason"] != reason {
					t.Errorf("%s: @removed %v, want reason %q", id, items[id], reason)
				}
			}
			if body["@odata.deltaLink"] == nil {
				t.Error("the round must end with a delta link")
			}
		})
	}
}

func TestDeltaResyncAnswers(t *testing.T) {
	s := NewServer(Generate(10, 2))
	defer s.Close()
	tok := token(t, s)
	_, latest := get(t, s, tok, s.GraphURL()+"/users/delta()?$deltatoken=latest")
	link := latest["@odata.deltaLink"].(string)

	s.SetFaults(Faults{DeltaGone: true})
	resp, body := get(t, s, tok, link)
	if resp.StatusCode != http.StatusGone || body != nil || !strings.Contains(resp.Header.Get("Location"), "$deltatoken=") ||
		strings.Contains(resp.Header.Get("Location"), "$deltatoken=d") {
		t.Errorf("410: status %d body %v Location %q: want no body and a Location with an empty $deltatoken", resp.StatusCode, body, resp.Header.Get("Location"))
	}
	s.SetFaults(Faults{})
	s.ExpireDeltaTokens()
	resp, body = get(t, s, tok, link)
	if e, _ := body["error"].(map[string]any); resp.StatusCode != http.StatusBadRequest || e["code"] != "syncStateNotFound" {
		t.Errorf("expired: %d %v", resp.StatusCode, body)
	}
}

func TestServicePrincipalVariants(t *testing.T) {
	s := NewServer(Generate(10, 2))
	defer s.Close()
	tok := token(t, s)
	sp := s.GraphURL() + "/servicePrincipals/" + s.sc.SPID + "?$select=appRoleAssignmentRequired,accountEnabled"
	if _, b := get(t, s, tok, sp); b["appRoleAssignmentRequired"] != true || b["accountEnabled"] != true {
		t.Errorf("default: %v", b)
	}
	s.SetVariant(Variant{AssignmentNotRequired: true, ServicePrincipalDisabled: true})
	if _, b := get(t, s, tok, sp); b["appRoleAssignmentRequired"] != false || b["accountEnabled"] != false {
		t.Errorf("variant: %v", b)
	}
}

// TestSeveralServicePrincipals: each enterprise application answers with
// its own roles, assignments and settings; an unknown id is a 404.
func TestSeveralServicePrincipals(t *testing.T) {
	sc := Generate(10, 2)
	notion := sc.AddApp(2, "Notion", "Editor")
	notion.AssignmentNotRequired = true
	notion.Assignments = []Assignment{{PrincipalID: GUID(7, 3), AppRoleID: notion.AppRoles[0].ID}}
	s := NewServer(sc)
	defer s.Close()
	tok := token(t, s)
	_, b := get(t, s, tok, s.GraphURL()+"/servicePrincipals/"+GUID(3, 2)+"?$select=displayName,appRoles,appRoleAssignmentRequired")
	roles, _ := b["appRoles"].([]any)
	if b["displayName"] != "Notion" || b["appRoleAssignmentRequired"] != false || len(roles) != 1 || roles[0].(map[string]any)["value"] != "Editor" {
		t.Errorf("second application: %v", b)
	}
	_, b = get(t, s, tok, s.GraphURL()+"/servicePrincipals/"+GUID(3, 2)+"/appRoleAssignedTo")
	items, _ := b["value"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["principalId"] != GUID(7, 3) || items[0].(map[string]any)["resourceId"] != GUID(3, 2) {
		t.Errorf("second application's assignments: %v", b)
	}
	if _, b = get(t, s, tok, s.GraphURL()+"/servicePrincipals/"+sc.SPID+"?$select=appRoleAssignmentRequired"); b["appRoleAssignmentRequired"] != true {
		t.Errorf("the first application keeps its own setting: %v", b)
	}
	if resp, _ := get(t, s, tok, s.GraphURL()+"/servicePrincipals/"+GUID(3, 9)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown service principal: %d", resp.StatusCode)
	}
}

// TestManagerRelationship: $expand=manager on the list (pages of at most
// 100 then), and manager@delta in delta rounds that select manager.
func TestManagerRelationship(t *testing.T) {
	s := NewServer(Generate(250, 10))
	defer s.Close()
	tok := token(t, s)
	_, b := get(t, s, tok, s.GraphURL()+"/users?$select=id,userPrincipalName&$top=999&$expand=manager($select=id,userPrincipalName)")
	items := b["value"].([]any)
	if len(items) != 100 || b["@odata.nextLink"] == nil {
		t.Fatalf("with $expand a page holds %d users, want 100 and a next link", len(items))
	}
	if _, ok := items[0].(map[string]any)["manager"]; ok {
		t.Errorf("user 0 has no manager: %v", items[0])
	}
	mg, _ := items[25].(map[string]any)["manager"].(map[string]any)
	if mg["id"] != GUID(7, 1) || mg["userPrincipalName"] != "user0000001@acme.com" || len(mg) != 3 {
		t.Errorf("user 25's manager: %v, want user 1 with the selected properties and @odata.type", mg)
	}
	_, latest := get(t, s, tok, s.GraphURL()+"/users/delta()?$select=id,displayName,manager&$deltatoken=latest")
	link := latest["@odata.deltaLink"].(string)
	s.ChangeUser(GUID(7, 25), func(u *User) { u.Manager = GUID(7, 2) })
	s.ChangeUser(GUID(7, 26), func(u *User) { u.Manager = "" })
	s.ChangeUser(GUID(7, 27), func(u *User) { u.DisplayName = "Renamed" })
	_, body := get(t, s, tok, link, "return=minimal")
	got := map[string]map[string]any{}
	for _, v := range body["value"].([]any) {
		got[v.(map[string]any)["id"].(string)] = v.(map[string]any)
	}
	if d, _ := got[GUID(7, 25)]["manager@delta"].([]any); len(d) != 1 || d[0].(map[string]any)["id"] != GUID(7, 2) || len(got[GUID(7, 25)]) != 2 {
		t.Errorf("a new manager: %v", got[GUID(7, 25)])
	}
	if d, _ := got[GUID(7, 26)]["manager@delta"].([]any); len(d) != 1 || d[0].(map[string]any)["@removed"] == nil {
		t.Errorf("a manager taken away: %v", got[GUID(7, 26)])
	}
	if _, ok := got[GUID(7, 27)]["manager@delta"]; ok {
		t.Errorf("an unchanged manager is not in a tracked item: %v", got[GUID(7, 27)])
	}
}
