package csvfile

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/idgraph/idgraph/collectors"
	"gopkg.in/yaml.v3"
)

func TestParseGood(t *testing.T) {
	in := "\ufeffEmail,Display Name,Role,Status,Team,other_emails,groups,assigned\n" +
		"alice@acme.com,Alice,Admin,active,t1,a@old.com;alice2@acme.com,G1;G2,true\n" +
		"erin@acme.com,,,invited,t1,,,\n" +
		"\n" +
		"bob@acme.com,Bob,Member,,,,,false\n"
	accs, bad, err := Parse(strings.NewReader(in), "m.csv", "stonly", collectors.KindApp)
	if err != nil || len(bad) != 0 {
		t.Fatalf("err %v bad %v", err, bad)
	}
	if len(accs) != 3 {
		t.Fatalf("got %d accounts", len(accs))
	}
	a := accs[0]
	if a.Role != "Admin" || a.Status != collectors.StatusActive || len(a.Addresses) != 3 || len(a.Groups) != 2 || !a.AssignedTo("") {
		t.Errorf("alice = %+v", a)
	}
	if accs[1].Status != collectors.StatusInvited {
		t.Errorf("erin = %+v", accs[1])
	}
	if accs[2].Team != "default" || accs[2].Status != collectors.StatusActive {
		t.Errorf("bob = %+v", accs[2])
	}
}

func TestParseBadRows(t *testing.T) {
	in := "email,role,status\n" +
		"ok@acme.com,Member,active\n" + // line 2
		"notanaddress,Member,active\n" + // line 3
		"x@acme.com,Member\n" + // line 4: too few fields
		"y@acme.com,Member,weird\n" + // line 5
		"ok@acme.com,Admin,active\n" + // line 6: duplicate
		",Member,active\n" // line 7
	accs, bad, err := Parse(strings.NewReader(in), "m.csv", "stonly", collectors.KindApp)
	if err != nil {
		t.Fatal(err)
	}
	if len(accs) != 1 {
		t.Errorf("kept %d good rows, want 1", len(accs))
	}
	want := []string{"m.csv:3: email", "m.csv:4: 2 fields", "m.csv:5: status", "m.csv:6: duplicate", "m.csv:7: email is empty"}
	if len(bad) != len(want) {
		t.Fatalf("bad rows = %v", bad)
	}
	for i, w := range want {
		if !strings.HasPrefix(bad[i].Error(), w) {
			t.Errorf("bad[%d] = %q, want prefix %q", i, bad[i], w)
		}
	}
}

func TestParseFatal(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "the file is empty"},
		{"unknown column", "email,favourite_colour\n", `unknown column "favourite_colour"`},
		{"no email column", "name,role\n", "no email column"},
		{"IdP without status", "email,name\n", "needs a status column"},
		{"broken quoting", "email,status\n\"a@b.com,active\nc@d.com\",x\"y\n", "the rest of the file was not read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse(strings.NewReader(tt.in), "u.csv", "hr", collectors.KindIdP)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestCollectMarksBadRowsIncomplete(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "okta.csv")
	os.WriteFile(path, []byte("email,status\na@acme.com,ACTIVE\nb@acme.com,ON_HOLIDAY\n"), 0o600)
	res, err := NewSource("okta-export", collectors.KindIdP, "", path).Collect(context.Background(), collectors.Request{})
	if err == nil || res.Completeness.Complete {
		t.Fatalf("a bad row must make the source incomplete: err %v, %+v", err, res.Completeness)
	}
	if !strings.Contains(res.Completeness.Errors[0], "okta.csv:3") || res.Completeness.Records != 1 {
		t.Errorf("completeness = %+v", res.Completeness)
	}
	res, err = NewSource("x", collectors.KindIdP, "", filepath.Join(dir, "missing.csv")).Collect(context.Background(), collectors.Request{})
	if err == nil || res.Completeness.Complete {
		t.Fatalf("a missing file must be an incomplete source: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("email,role,status,team\na@b.com,Admin,active,t1\n")
	f.Add("email,status\n\"a@b\",invited\n")
	f.Fuzz(func(t *testing.T, in string) {
		accs, _, _ := Parse(strings.NewReader(in), "f.csv", "stonly", collectors.KindApp)
		for _, a := range accs {
			if a.Email == "" || !a.Status.Valid() || a.ID == "" {
				t.Fatalf("accepted an invalid row: %+v", a)
			}
		}
	})
}

// TestApplicationDeclared: an app export names its application, title and
// ladder; an IdP export's assignments are of the application it names.
func TestApplicationDeclared(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	app := write("notion.csv", "email,role\nann@acme.com,Workspace Owner\n")
	idp := write("idp.csv", "email,status,assigned,app_roles\nann@acme.com,active,true,Owner\n")
	cfg := "csvfile:\n  - {name: notion, kind: app, app: notion, title: Notion, roles: [Member, Workspace Owner], path: " + app + "}\n" +
		"  - {name: hr, kind: idp, app: notion, path: " + idp + "}\n"
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(cfg), &doc); err != nil {
		t.Fatal(err)
	}
	cs, err := New(doc.Content[0].Content[1], collectors.Env{File: "idgraph.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if in := cs[0].Info(); in.App != "notion" || in.Title != "Notion" || !slices.Equal(in.Roles, []string{"Member", "Workspace Owner"}) || in.Type != "csvfile" {
		t.Errorf("app info %+v", in)
	}
	res, err := cs[1].Collect(context.Background(), collectors.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if a := res.Accounts[0]; !a.AssignedTo("notion") || a.Assignment("notion").Roles[0] != "Owner" {
		t.Errorf("idp account %+v", a)
	}
	plain := NewSource("stonly", collectors.KindApp, "stonly", app).Info()
	if !slices.Equal(plain.Roles, DefaultRoles) {
		t.Errorf("an app export without roles ranks on %v, want %v", plain.Roles, DefaultRoles)
	}
	for _, bad := range []string{
		"csvfile:\n  - {name: x, kind: idp, title: X, path: a.csv}\n",
		"csvfile:\n  - {name: x, kind: app, app: x, roles: [A, a], path: a.csv}\n",
	} {
		var d yaml.Node
		yaml.Unmarshal([]byte(bad), &d)
		if _, err := New(d.Content[0].Content[1], collectors.Env{File: "idgraph.yaml"}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
