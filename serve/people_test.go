package serve_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/idgraph/idgraph/graph"
	"github.com/idgraph/idgraph/serve"
)

// edit rewrites the lines of a fixture CSV: each line that starts with a
// key of change becomes its value ("" drops the line); add is appended.
func edit(t *testing.T, path string, change map[string]string, add ...string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		kept := true
		for prefix, repl := range change {
			if strings.HasPrefix(l, prefix) {
				kept = false
				if repl != "" {
					out = append(out, repl)
				}
			}
		}
		if kept {
			out = append(out, l)
		}
	}
	out = append(out, add...)
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// list returns the text of the page's <ul id="id">, tags removed, one
// line per item.
func list(t *testing.T, page, id string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<ul id="` + id + `">(.*?)</ul>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no list %q in the page:\n%s", id, page)
	}
	var items []string
	for _, li := range regexp.MustCompile(`(?s)<li>(.*?)</li>`).FindAllStringSubmatch(m[1], -1) {
		items = append(items, html.UnescapeString(strings.Join(strings.Fields(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(li[1], " ")), " ")))
	}
	return items
}

// TestDriftPageNamesPeople: every drift list of the UI names the person
// (by name, from the snapshot that holds them) and the account, and links
// to the person's page; status changes read by name, not by account ids.
func TestDriftPageNamesPeople(t *testing.T) {
	f := newFixture(t)
	q := f.dir
	edit(t, q+"/stonly-members.csv", map[string]string{
		"frank@acme.com,":   "frank@acme.com,Frank Excess,Member,active,t-support,Support Center",
		"mallory@gmail.com": "",
	}, "zed@acme.com,Zed Newcomer,Member,active,t-sales,Sales Playbooks")
	edit(t, q+"/okta-users.csv", map[string]string{
		"00u03,": "00u03,carol@acme.com,carol@acme.com,Carol Bypass,SUSPENDED,E003,Engineering,false,,2026-11-30",
	})
	if err := f.srv.RunNow(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	a := "alice@acme.com:alice-password"
	code, page := f.do("GET", "/drift", a, nil)
	if code != 200 {
		t.Fatalf("GET /drift: %d %s", code, page)
	}
	has := func(id string, want ...string) {
		t.Helper()
		items := list(t, page, id)
		for _, it := range items {
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(it, w)
			}
			if ok {
				return
			}
		}
		t.Errorf("no item of %s has all of %q: %q", id, want, items)
	}
	has("role-changes", "Frank Excess", "<frank@acme.com>", "Support Center", "Admin → Member")
	has("status-changes", "Carol Bypass", "<carol@acme.com>", "in okta-export: ACTIVE → SUSPENDED")
	has("accounts", "+ Zed Newcomer", "<zed@acme.com>", "stonly")
	// A removed account is named from the earlier snapshot, where its
	// person still was.
	has("accounts", "− Mallory Unknown", "<mallory@gmail.com>", "stonly")
	has("resolved", "orphaned", "Mallory Unknown")
	has("appeared", "orphaned", "Zed Newcomer")
	has("appeared", "Carol Bypass")
	for _, id := range []string{"role-changes", "status-changes"} {
		for _, it := range list(t, page, id) {
			if strings.HasPrefix(it, "okta-export:") || strings.HasPrefix(it, "stonly:") {
				t.Errorf("%s item starts with an account id, not a name: %q", id, it)
			}
		}
	}
	// The names link to the people's pages in the right snapshot.
	var people []map[string]any
	_, b := f.do("GET", "/api/v1/people?email=mallory@gmail.com&snapshot=1", "token", nil)
	if err := json.Unmarshal([]byte(b), &people); err != nil || len(people) != 1 {
		t.Fatalf("mallory in snapshot 1: %v %s", err, b)
	}
	mallory := people[0]["person"].(map[string]any)["id"].(string)
	if !strings.Contains(page, `href="/people/`+mallory+`?snapshot=1"`) {
		t.Errorf("the removed account does not link to its person in snapshot 1 (%s)", mallory)
	}
	if code, p := f.do("GET", "/people/"+mallory+"?snapshot=1", a, nil); code != 200 || !strings.Contains(p, "Mallory Unknown") {
		t.Errorf("the link's page: %d", code)
	}
}

// TestDriftPageErrors: wrong snapshots are said plainly, without the
// store's path.
func TestDriftPageErrors(t *testing.T) {
	f := newFixture(t)
	a := "alice@acme.com:alice-password"
	for _, tt := range []struct {
		path string
		want int
		msg  string
	}{
		{"/drift?to=99", 404, "there is no snapshot 99"},
		{"/drift", 404, "snapshot 1 has no earlier snapshot"},
		{"/drift?to=abc", 400, "to must be a snapshot id"},
		{"/drift?to=1&from=1", 400, "must be a snapshot earlier than to"},
		{"/drift?to=1&from=-2", 400, "from must be a snapshot id"},
	} {
		code, body := f.do("GET", tt.path, a, nil)
		if code != tt.want || !strings.Contains(html.UnescapeString(body), tt.msg) {
			t.Errorf("GET %s: %d, want %d with %q:\n%.400s", tt.path, code, tt.want, tt.msg, body)
		}
		if strings.Contains(body, f.dir) || strings.Contains(body, ".db") {
			t.Errorf("GET %s shows the store's path: %s", tt.path, body)
		}
	}
}

// TestPeopleSearch: the UI finds people by any address their accounts
// carry, says so when nobody has it, and a missing snapshot is a 404 that
// does not show the store's path; the navigation offers the search.
func TestPeopleSearch(t *testing.T) {
	f := newFixture(t)
	a := "alice@acme.com:alice-password"
	for _, tt := range []struct {
		name, query string
		want        int
		has, hasNot []string
	}{
		{"the app's address, in another case", "?email=%20BOB@Acme.com%20", 200, []string{"Bob Leaver", `href="/people/`, "okta-export: bob@acme.com", "orphaned"}, []string{`id="none"`}},
		{"an IdP's other address", "?email=support@acme.com", 200, []string{"Sam Shared", "Sue Shared"}, nil},
		{"an Entra guest by its mail", "?email=pat@partner.com", 200, []string{"Pat Guest"}, nil},
		{"nobody", "?email=nobody@acme.com", 200, []string{`id="none"`, "No person in snapshot 1 has an account with the address nobody@acme.com"}, []string{`id="people"`}},
		{"no address yet", "", 200, []string{`name="email"`}, []string{`id="none"`, `id="people"`}},
		{"a snapshot that does not exist", "?email=bob@acme.com&snapshot=42", 404, []string{"there is no snapshot 42"}, nil},
		{"a snapshot that is no number", "?email=bob@acme.com&snapshot=x", 400, []string{"snapshot must be a snapshot id"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, body := f.do("GET", "/people"+tt.query, a, nil)
			body = html.UnescapeString(body)
			if code != tt.want {
				t.Fatalf("%d, want %d:\n%.600s", code, tt.want, body)
			}
			for _, w := range tt.has {
				if !strings.Contains(body, w) {
					t.Errorf("no %q in:\n%s", w, body)
				}
			}
			for _, w := range tt.hasNot {
				if strings.Contains(body, w) {
					t.Errorf("%q in:\n%s", w, body)
				}
			}
			if strings.Contains(body, f.dir) || strings.Contains(body, "quickstart.db") {
				t.Errorf("the page shows the store's path:\n%s", body)
			}
		})
	}
	// Each page's navigation carries the search.
	for _, p := range []string{"/", "/findings", "/people?email=x@y"} {
		if _, body := f.do("GET", p, a, nil); !strings.Contains(body, `<form method="get" action="/people" class="find" role="search">`) {
			t.Errorf("%s: no search in the navigation", p)
		}
	}
	// A person's page for a missing snapshot or person hides the path too.
	for _, p := range []string{"/people/nobody?snapshot=42", "/people/nobody"} {
		code, body := f.do("GET", p, a, nil)
		if code != 404 || strings.Contains(body, f.dir) || strings.Contains(body, ".db") {
			t.Errorf("GET %s: %d %s", p, code, body)
		}
	}
}

// TestPeopleAPI: GET /api/v1/people?email= answers the people as
// GET /api/v1/people/{id} shapes them, [] for nobody, 400 without an
// address and 404 without the store's path for a missing snapshot.
func TestPeopleAPI(t *testing.T) {
	f := newFixture(t)
	code, body := f.do("GET", "/api/v1/people?email=Olga@acme.com", "token", nil)
	var found []struct {
		Snapshot int64
		Person   struct{ ID, Email, DisplayName string } `json:"person"`
		Accounts []struct{ Source string }
	}
	if err := json.Unmarshal([]byte(body), &found); code != 200 || err != nil || len(found) != 1 || len(found[0].Accounts) < 3 {
		t.Fatalf("%d %v %s", code, err, body)
	}
	code, pb := f.do("GET", "/api/v1/people/"+found[0].Person.ID, "token", nil)
	if code != 200 || !strings.Contains(pb, `"email": "olga@acme.com"`) && !strings.Contains(strings.ToLower(pb), "olga@acme.com") {
		t.Errorf("the person by id: %d %s", code, pb)
	}
	for _, tt := range []struct {
		query string
		want  int
		body  string
	}{
		{"?email=nobody@acme.com", 200, "[]"},
		{"", 400, "?email=ADDRESS"},
		{"?email=olga@acme.com&snapshot=9", 404, "there is no snapshot 9"},
	} {
		code, body := f.do("GET", "/api/v1/people"+tt.query, "token", nil)
		if code != tt.want || !strings.Contains(body, tt.body) || strings.Contains(body, f.dir) {
			t.Errorf("GET /api/v1/people%s: %d %s, want %d with %q", tt.query, code, body, tt.want, tt.body)
		}
	}
}

// TestPeopleSearchUsesTheDomainAliases: the search matches an address as
// correlation does, through the configured domain aliases.
func TestPeopleSearchUsesTheDomainAliases(t *testing.T) {
	f := newFixture(t)
	norm, err := graph.NewNormalizer(map[string]string{"acquisicorp.net": "acme.com"}, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		norm *graph.Normalizer
		want string
	}{{nil, `id="none"`}, {norm, "Bob Leaver"}} {
		h := httptest.NewServer(f.server(func(o *serve.Options) { o.Normalizer = tt.norm }).Handler())
		f.http = h
		code, body := f.do("GET", "/people?email=bob@acquisicorp.net", "alice@acme.com:alice-password", nil)
		h.Close()
		if code != 200 || !strings.Contains(html.UnescapeString(body), tt.want) {
			t.Errorf("normalizer %v: %d, want %q in:\n%.800s", tt.norm != nil, code, tt.want, body)
		}
	}
}
