package stonlytest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAdminAPIRefusesWhatStonlyRefuses checks the replica's server side on
// its own: whatever a page offers, the Owner is neither removed nor
// demoted, nobody is made Owner, a request without the session's CSRF
// token or session changes nothing, and the switches answer as they say.
func TestAdminAPIRefusesWhatStonlyRefuses(t *testing.T) {
	sc := Generate(6, "Support Center")
	srv := NewServer(sc)
	defer srv.Close()
	srv.SetVariant(Variant{RefuseRemove: "member2@acme.com"})
	team := sc.Teams[0].ID
	tok := srv.NewSession()
	sec := srv.Secrets()
	csrf := sec[len(sec)-1]
	do := func(method, path, body, token, cookie string) int {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("X-CSRF-Token", token)
		}
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: CookieName, Value: cookie})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	member := func(e string) string { return "/api/v1/teams/" + team + "/members/" + url.PathEscape(e) }
	tests := []struct {
		name               string
		method, path, body string
		token, cookie      string
		want               int
	}{
		{"remove the Owner", "DELETE", member("member0@acme.com"), "", csrf, tok, http.StatusForbidden},
		{"demote the Owner", "PATCH", member("member0@acme.com"), `{"role":"Member"}`, csrf, tok, http.StatusForbidden},
		{"make an Owner", "PATCH", member("member1@acme.com"), `{"role":"Owner"}`, csrf, tok, http.StatusBadRequest},
		{"an unknown role", "PATCH", member("member1@acme.com"), `{"role":"Editor"}`, csrf, tok, http.StatusBadRequest},
		{"no CSRF token", "DELETE", member("member1@acme.com"), "", "", tok, http.StatusForbidden},
		{"no session", "DELETE", member("member1@acme.com"), "", csrf, "", http.StatusUnauthorized},
		{"the refused removal", "DELETE", member("member2@acme.com"), "", csrf, tok, http.StatusInternalServerError},
		{"nobody at the address", "DELETE", member("nobody@acme.com"), "", csrf, tok, http.StatusNotFound},
		{"demote a member", "PATCH", member("member3@acme.com"), `{"role":"Member"}`, csrf, tok, http.StatusOK},
		{"remove a member", "DELETE", member("member1@acme.com"), "", csrf, tok, http.StatusOK},
		{"revoke an invitation", "DELETE", "/api/v1/teams/" + team + "/invitations/invitee0.a@acme.com", "", csrf, tok, http.StatusOK},
	}
	for _, tt := range tests {
		if got := do(tt.method, tt.path, tt.body, tt.token, tt.cookie); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
	if m, ok := srv.Member(team, "member0@acme.com"); !ok || m.Role != "Owner" {
		t.Errorf("the Owner is %+v (%v)", m, ok)
	}
	if _, ok := srv.Member(team, "member2@acme.com"); !ok {
		t.Error("the refused removal removed member2")
	}
	if _, ok := srv.Member(team, "member1@acme.com"); ok {
		t.Error("member1 was not removed")
	}
	if m, _ := srv.Member(team, "member3@acme.com"); m.Role != "Member" {
		t.Errorf("member3 is %s", m.Role)
	}
	if inv := srv.Invitations(team); len(inv) != 1 || inv[0].Email != "invitee0.b@acme.com" {
		t.Errorf("invitations %+v", inv)
	}
	if ch := srv.Changes(); len(ch) != len(tests) || ch[0].Status != http.StatusForbidden || ch[len(ch)-1].Op != "revoke_invitation" {
		t.Errorf("changes %+v", ch)
	}
}

// TestAdminAPISessionExpiresAtChange: the n-th change is answered 401 and
// the session is dead from then on.
func TestAdminAPISessionExpiresAtChange(t *testing.T) {
	sc := Generate(6, "Support Center")
	srv := NewServer(sc)
	defer srv.Close()
	srv.SetVariant(Variant{ExpireAtChange: 2})
	tok := srv.NewSession()
	sec := srv.Secrets()
	for i, want := range []int{http.StatusOK, http.StatusUnauthorized, http.StatusUnauthorized} {
		req, _ := http.NewRequest("DELETE", srv.URL+"/api/v1/teams/"+sc.Teams[0].ID+"/members/member"+string(rune('1'+i))+"@acme.com", nil)
		req.Header.Set("X-CSRF-Token", sec[len(sec)-1])
		req.AddCookie(&http.Cookie{Name: CookieName, Value: tok})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("change %d: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	if srv.SessionValid(tok) || len(srv.Members(sc.Teams[0].ID)) != 5 {
		t.Errorf("session valid %v, %d members (want 5)", srv.SessionValid(tok), len(srv.Members(sc.Teams[0].ID)))
	}
}
