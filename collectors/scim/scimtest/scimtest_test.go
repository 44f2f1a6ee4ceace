package scimtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func call(t *testing.T, s *Server, method, path, body string) answer {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	json.Unmarshal(b, &a.body)
	return a
}

func num(v any) int { f, _ := v.(float64); return int(f) }

func TestServiceProviderConfig(t *testing.T) {
	sc := DefaultScenario()
	sc.MaxResults = 3
	sc.NoPatch = true
	s := New(sc)
	defer s.Close()
	a := call(t, s, "GET", "/ServiceProviderConfig", "")
	filter, _ := a.body["filter"].(map[string]any)
	patch, _ := a.body["patch"].(map[string]any)
	if a.status != 200 || num(filter["maxResults"]) != 3 || patch["supported"] != false || a.header.Get("Content-Type") != "application/scim+json" {
		t.Errorf("%d %s", a.status, a.raw)
	}
	if a := call(t, s, "PATCH", "/Users/u-bob", `{"schemas":["`+PatchOpURN+`"],"Operations":[{"op":"replace","path":"active","value":false}]}`); a.status != 501 {
		t.Errorf("PATCH without support: %d", a.status)
	}
}

func TestListPaging(t *testing.T) {
	sc := Many(5)
	sc.MaxResults = 3
	s := New(sc)
	defer s.Close()
	tests := []struct {
		query               string
		start, items, total int
		first               string
	}{
		{"startIndex=1&count=2", 1, 2, 5, "u-0001"},
		{"startIndex=4&count=2", 4, 2, 5, "u-0004"},
		{"startIndex=5&count=2", 5, 1, 5, "u-0005"}, // itemsPerPage counts what is returned
		{"startIndex=0&count=1", 1, 1, 5, "u-0001"}, // below 1 means 1
		{"count=-4", 1, 0, 5, ""},                   // negative means 0
		{"count=50", 1, 3, 5, "u-0001"},             // capped at maxResults
		{"", 1, 3, 5, "u-0001"},
		{"startIndex=9", 9, 0, 5, ""},
		{`filter=` + url.QueryEscape(`userName eq "user0002@acme.com"`), 1, 1, 1, "u-0002"},
	}
	for _, tt := range tests {
		a := call(t, s, "GET", "/Users?"+tt.query, "")
		res, _ := a.body["Resources"].([]any)
		first := ""
		if len(res) > 0 {
			first, _ = res[0].(map[string]any)["id"].(string)
		}
		schemas, _ := a.body["schemas"].([]any)
		if a.status != 200 || len(schemas) != 1 || schemas[0] != ListResponseURN || num(a.body["startIndex"]) != tt.start ||
			num(a.body["itemsPerPage"]) != tt.items || len(res) != tt.items || num(a.body["totalResults"]) != tt.total || first != tt.first {
			t.Errorf("%s: %d %s", tt.query, a.status, a.raw)
		}
	}
	if a := call(t, s, "GET", "/Users?filter="+url.QueryEscape(`name.givenName sw "A"`), ""); a.status != 400 || a.body["scimType"] != "invalidFilter" {
		t.Errorf("unsupported filter: %d %s", a.status, a.raw)
	}
}

func TestAuthentication(t *testing.T) {
	s := New(DefaultScenario())
	defer s.Close()
	req, _ := http.NewRequest("GET", s.URL+"/Users", nil)
	req.Header.Set("Authorization", "Bearer nope")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("%d %v", resp.StatusCode, resp.Header)
	}
	s.SetFaults(Faults{ExpireAfter: 1})
	if a := call(t, s, "GET", "/Me", ""); a.status != 200 || a.body["userName"] != "it-bot@acme.com" {
		t.Errorf("/Me: %d %s", a.status, a.raw)
	}
	if a := call(t, s, "GET", "/Me", ""); a.status != 401 || !strings.Contains(a.raw, "expired") {
		t.Errorf("after expiry: %d %s", a.status, a.raw)
	}
}

func TestMeNotImplemented(t *testing.T) {
	sc := DefaultScenario()
	sc.Me = ""
	s := New(sc)
	defer s.Close()
	if a := call(t, s, "GET", "/Me", ""); a.status != 501 || a.body["status"] != "501" {
		t.Errorf("%d %s", a.status, a.raw)
	}
}

func patchBody(ops string) string {
	return `{"schemas":["` + PatchOpURN + `"],"Operations":[` + ops + `]}`
}

func TestPatch(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		scimType   string
		check      func(u User) bool
	}{
		{"deactivate", patchBody(`{"op":"replace","path":"active","value":false}`), 200, "", func(u User) bool { return !u.Active }},
		{"capitalised op", patchBody(`{"op":"Replace","path":"active","value":false}`), 200, "", func(u User) bool { return !u.Active }},
		{"no path", patchBody(`{"op":"replace","value":{"displayName":"B. B.","active":false}}`), 200, "",
			func(u User) bool { return !u.Active && u.DisplayName == "B. B." }},
		{"extension path", patchBody(`{"op":"replace","path":"` + EnterpriseSchema + `:department","value":"Admin"}`), 200, "",
			func(u User) bool { return u.Enterprise.Department == "Admin" && u.Enterprise.EmployeeNumber == "1002" }},
		{"value filter", patchBody(`{"op":"replace","path":"emails[type eq \"work\"].value","value":"robert@acme.com"}`), 200, "",
			func(u User) bool { return u.Emails[0].Value == "robert@acme.com" && u.Emails[0].Primary }},
		{"add to a multi-valued attribute", patchBody(`{"op":"add","path":"roles","value":[{"value":"Billing"}]}`), 200, "",
			func(u User) bool { return len(u.Roles) == 2 && u.Roles[1].Value == "Billing" }},
		{"replace a multi-valued attribute", patchBody(`{"op":"replace","path":"roles","value":[{"value":"Admin","primary":true}]}`), 200, "",
			func(u User) bool { return len(u.Roles) == 1 && u.Roles[0].Value == "Admin" }},
		{"remove by filter", patchBody(`{"op":"remove","path":"roles[value eq \"Member\"]"}`), 200, "", func(u User) bool { return len(u.Roles) == 0 }},
		{"no PatchOp schema", `{"Operations":[{"op":"replace","path":"active","value":false}]}`, 400, "invalidSyntax", nil},
		{"remove without path", patchBody(`{"op":"remove"}`), 400, "noTarget", nil},
		{"read-only attribute", patchBody(`{"op":"replace","path":"groups","value":[]}`), 400, "mutability", nil},
		{"unknown attribute", patchBody(`{"op":"replace","path":"rank","value":"x"}`), 400, "invalidPath", nil},
		{"filter that matches nothing", patchBody(`{"op":"replace","path":"emails[type eq \"home\"].value","value":"x@acme.com"}`), 400, "noTarget", nil},
		// The second operation fails: the first is not applied either.
		{"atomic", patchBody(`{"op":"replace","path":"displayName","value":"Changed"},{"op":"replace","path":"active","value":"no"}`), 400, "invalidValue",
			func(u User) bool { return u.DisplayName == "Bob Builder" && u.Active }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(DefaultScenario())
			defer s.Close()
			a := call(t, s, "PATCH", "/Users/u-bob", tt.body)
			if a.status != tt.status || tt.scimType != "" && a.body["scimType"] != tt.scimType {
				t.Fatalf("%d %s", a.status, a.raw)
			}
			u, _ := s.User("u-bob")
			if tt.check != nil && !tt.check(u) {
				t.Errorf("user after: %+v", u)
			}
			// The next read shows the same state.
			if g := call(t, s, "GET", "/Users/u-bob", ""); g.status != 200 || g.body["active"] != u.Active {
				t.Errorf("GET after: %s", g.raw)
			}
		})
	}
}

func TestDeleteAndGroups(t *testing.T) {
	s := New(DefaultScenario())
	defer s.Close()
	if a := call(t, s, "GET", "/Groups?filter="+url.QueryEscape(`displayName eq "Admin"`), ""); a.status != 200 || num(a.body["totalResults"]) != 1 {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	if a := call(t, s, "PATCH", "/Groups/g-owner", patchBody(`{"op":"add","path":"members","value":[{"value":"u-bob"}]}`)); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	if a := call(t, s, "PATCH", "/Groups/g-member", patchBody(`{"op":"remove","path":"members[value eq \"u-bob\"]"}`)); a.status != 200 {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	if u, _ := s.User("u-bob"); len(u.Groups) != 1 || u.Groups[0] != "Owner" {
		t.Errorf("groups = %v", u.Groups)
	}
	g := call(t, s, "GET", "/Users/u-bob", "")
	groups, _ := g.body["groups"].([]any)
	if len(groups) != 1 || groups[0].(map[string]any)["display"] != "Owner" {
		t.Errorf("groups attribute: %s", g.raw)
	}
	if a := call(t, s, "DELETE", "/Users/u-bob", ""); a.status != 204 {
		t.Errorf("DELETE: %d", a.status)
	}
	if a := call(t, s, "GET", "/Users/u-bob", ""); a.status != 404 || a.body["status"] != "404" {
		t.Errorf("GET after DELETE: %d %s", a.status, a.raw)
	}
	if a := call(t, s, "GET", "/Groups/g-owner", ""); strings.Contains(a.raw, "u-bob") {
		t.Errorf("a deleted user is still a member: %s", a.raw)
	}
}

func TestPageFaults(t *testing.T) {
	tests := []struct {
		name   string
		f      Faults
		query  string
		status int
		check  func(a answer) bool
	}{
		{"429 with Retry-After", Faults{RateLimitPage: 2, RetryAfter: "5"}, "startIndex=3&count=2", 429,
			func(a answer) bool { return a.header.Get("Retry-After") == "5" }},
		{"503 with Retry-After", Faults{UnavailablePage: 1}, "count=2", 503, func(a answer) bool { return a.header.Get("Retry-After") == "1" }},
		{"500 on a page", Faults{FailPage: 3}, "startIndex=5&count=2", 500, func(a answer) bool { return a.body["schemas"] != nil }},
		{"repeat", Faults{RepeatPage: 1}, "startIndex=3&count=2", 200, func(a answer) bool {
			res := a.body["Resources"].([]any)
			return num(a.body["startIndex"]) == 3 && res[0].(map[string]any)["id"] == "u-0001"
		}},
		{"drift", Faults{TotalDriftPage: 2, TotalDrift: 2}, "startIndex=3&count=2", 200, func(a answer) bool { return num(a.body["totalResults"]) == 7 }},
		{"cap", Faults{CapCount: 1}, "count=4", 200, func(a answer) bool { return num(a.body["itemsPerPage"]) == 1 }},
		{"ignore count", Faults{IgnoreCount: 4}, "count=2", 200, func(a answer) bool { return num(a.body["itemsPerPage"]) == 4 }},
		{"HTML", Faults{BodyPage: 1}, "count=2", 200, func(a answer) bool { return strings.HasPrefix(a.raw, "<!doctype html>") }},
		{"forbidden", Faults{Forbidden: true}, "", 403, func(a answer) bool { return a.body["status"] == "403" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Many(5))
			defer s.Close()
			s.SetFaults(tt.f)
			a := call(t, s, "GET", "/Users?"+tt.query, "")
			if a.status != tt.status || !tt.check(a) {
				t.Errorf("%d %v %s", a.status, a.header, a.raw)
			}
		})
	}
}

func TestRefuseWrite(t *testing.T) {
	s := New(DefaultScenario())
	defer s.Close()
	s.SetFaults(Faults{RefuseWrite: map[string]int{"u-bob": 409}})
	a := call(t, s, "PATCH", "/Users/u-bob", patchBody(`{"op":"replace","path":"active","value":false}`))
	if u, _ := s.User("u-bob"); a.status != 409 || a.body["scimType"] != "uniqueness" || !u.Active {
		t.Errorf("%d %s; active=%v", a.status, a.raw, u.Active)
	}
}
