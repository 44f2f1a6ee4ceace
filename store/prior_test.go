package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/graph"
)

// TestPriorShape fails when collectors.Account changes shape: the priors
// encoding must then learn the new field (priorEncoder.account,
// priorDecoder.chunk), bump priorLayout and update priorShape. Until it
// does, runs neither write nor read priors (they read the account rows),
// so a field is never silently lost.
func TestPriorShape(t *testing.T) {
	if got := accountShape(); got != priorShape {
		t.Fatalf("collectors.Account is now\n\t%s\nthe priors encoding (layout %d) knows\n\t%s\nteach it the change, bump priorLayout and update priorShape", got, priorLayout, priorShape)
	}
	if !priorsUsable() {
		t.Fatal("priorsUsable is false with the shape the encoding knows")
	}
}

// every is an account with every field set, some of them awkwardly: text
// that is not valid UTF-8 (the JSON rows hold U+FFFD instead), a time at
// an offset, a time in UTC with nanoseconds, a string that recurs.
func every(i int) collectors.Account {
	paris := time.FixedZone("", 3600)
	e := fmt.Sprintf("user%d@acme.com", i)
	return collectors.Account{
		Source: "okta", ID: fmt.Sprintf("00u%d", i), Team: "", TeamName: "", Email: e,
		Addresses:   []collectors.Address{{Field: "login", Value: e}, {Field: "email", Value: e}, {Field: "secondEmail", Value: "bad\xffbyte@acme.com"}},
		DisplayName: "Zoë \xe2\x28\xa1 Test", EmployeeID: fmt.Sprintf("E%d", i), Status: collectors.StatusInactive, RawStatus: "DEPROVISIONED",
		Guest: i%2 == 1, StatusChanged: time.Date(2026, 10, 2, 9, 30, 0, 123456789, time.UTC), LastActivity: time.Date(2026, 9, 1, 8, 0, 0, 0, paris),
		Groups: []string{"Stonly Admins", "Everyone"}, NestedGroups: []string{"Support Tier 2"},
		Assignments: []collectors.Assignment{
			{App: "stonly", InForce: true, Via: []string{"direct", "group Stonly Admins (priority 1)"}, Roles: []string{"Admin"}},
			{App: "notion", InForce: false},
		},
		Manager: "boss@acme.com", Role: "",
	}
}

// priorSnapshot is a snapshot of the accounts given, correlated, with two
// sources, written and given its priors.
func priorSnapshot(t testing.TB, s *Store, accs []collectors.Account) *Snapshot {
	t.Helper()
	graph.SortAccounts(accs)
	g, err := graph.Correlate(accs, graph.Options{IdPs: map[string]bool{"okta": true, "entra": true}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	snap := &Snapshot{StartedAt: now, FinishedAt: now.Add(time.Minute), ConfigHash: "cfg", Version: "test", Graph: g,
		Findings: diff.Evaluate(diff.Input{Graph: g, Sources: map[string]diff.Source{"okta": {Kind: collectors.KindIdP, Complete: true},
			"entra": {Kind: collectors.KindIdP, Complete: true}, "stonly": {Kind: collectors.KindApp, App: "stonly", Complete: true}}})}
	for _, name := range []string{"entra", "okta", "stonly"} {
		kind := collectors.KindIdP
		if name == "stonly" {
			kind = collectors.KindApp
		}
		snap.Sources = append(snap.Sources, Source{Info: collectors.Info{Name: name, Kind: kind}, Completeness: collectors.Completeness{Complete: true}, State: "s"})
	}
	ctx := context.Background()
	if err := s.WriteSnapshot(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if err := s.WritePriors(ctx, snap); err != nil {
		t.Fatal(err)
	}
	return snap
}

// mixed is n accounts of every shape over three sources, enough that Okta
// spans several chunks.
func mixed(n int) []collectors.Account {
	var accs []collectors.Account
	for i := 0; i < n; i++ {
		accs = append(accs, every(i))
		e := fmt.Sprintf("user%d@acme.com", i)
		accs = append(accs, collectors.Account{Source: "entra", ID: fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i), Email: e, Status: collectors.StatusActive,
			Addresses: []collectors.Address{{Field: "userPrincipalName", Value: e}, {Field: "proxyAddresses", Value: "SMTP:" + e}}})
		if i%10 == 0 {
			accs = append(accs, collectors.Account{Source: "stonly", ID: e, Team: fmt.Sprintf("t%d", i%3), TeamName: "Team", Email: e,
				Status: collectors.StatusActive, Role: "Member", Addresses: []collectors.Address{{Field: "email", Value: e}}})
		}
	}
	return accs
}

// fromRows reads snapshot id's accounts of the sources from their JSON
// rows, as every run did before the priors.
func fromRows(t testing.TB, s *Store, id int64, sources ...string) []collectors.Account {
	t.Helper()
	las, err := s.Accounts(context.Background(), id, sources...)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]collectors.Account, len(las))
	for i := range las {
		out[i] = las[i].Account
	}
	return out
}

// sameAccounts compares accounts field by field, times by instant and
// offset (a JSON row's offset may decode to Local, the priors' to a fixed
// zone of the same offset).
func sameAccounts(t *testing.T, want, got []collectors.Account) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%d accounts, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		for _, p := range [][2]*time.Time{{&w.StatusChanged, &g.StatusChanged}, {&w.LastActivity, &g.LastActivity}} {
			_, wo := p[0].Zone()
			_, gfo := p[1].Zone()
			if !p[0].Equal(*p[1]) || wo != gfo {
				t.Fatalf("account %d (%s): time %v, want %v", i, w.Key(), *p[1], *p[0])
			}
			*p[0], *p[1] = time.Time{}, time.Time{}
		}
		if !reflect.DeepEqual(w, g) {
			t.Fatalf("account %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func TestPriorAccountsMatchTheRows(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	snap := priorSnapshot(t, s, mixed(priorChunk+300))
	var chunks int
	s.db.QueryRow(`SELECT COUNT(*) FROM priors WHERE snapshot_id = ?`, snap.ID).Scan(&chunks)
	if chunks < 4 { // entra 2, okta 2, stonly 1
		t.Fatalf("%d chunks: the test should span several per source", chunks)
	}
	for _, tc := range []struct {
		name    string
		sources []string
	}{
		{"every source", nil},
		{"okta", []string{"okta"}},
		{"entra and stonly", []string{"entra", "stonly"}},
		{"a source the snapshot lacks", []string{"scim"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, read, err := s.PriorAccounts(ctx, snap.ID, tc.sources...)
			if err != nil {
				t.Fatal(err)
			}
			if !read.Encoded || read.Problem != "" {
				t.Fatalf("read %+v: want the priors", read)
			}
			sameAccounts(t, fromRows(t, s, snap.ID, tc.sources...), got)
		})
	}
	// The awkward account as the rows hold it: U+FFFD for each bad byte.
	got, _, _ := s.PriorAccounts(ctx, snap.ID, "okta")
	if a := got[0]; a.DisplayName != "Zoë \ufffd(\ufffd Test" || a.Addresses[2].Value != "bad\ufffdbyte@acme.com" {
		t.Fatalf("invalid UTF-8 decoded as %q, %q", a.DisplayName, a.Addresses[2].Value)
	}
	// The accounts' lists are their own: appending to one never writes
	// into the next account's.
	first, second := got[0].Groups, got[1].Groups
	_ = append(first, "appended")
	if second[0] != "Stonly Admins" {
		t.Fatalf("appending to one account's groups changed the next one's: %q", second)
	}
}

func TestPriorAccountsFallBackToTheRows(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		alter   string // SQL run on the priors of the snapshot (?1)
		problem bool   // the priors are there but cannot be used
	}{
		{"none, as a snapshot written before migration 10", `DELETE FROM priors WHERE snapshot_id = ?1`, false},
		{"a chunk missing (a set cut short)", `DELETE FROM priors WHERE id = (SELECT MAX(id) FROM priors WHERE snapshot_id = ?1)`, false},
		{"another layout", `UPDATE priors SET layout = 99 WHERE snapshot_id = ?1`, false},
		{"a chunk that does not decode", `UPDATE priors SET data = substr(data, 1, length(data) - 3) WHERE id = (SELECT MIN(id) FROM priors WHERE snapshot_id = ?1)`, true},
		{"a chunk that claims more accounts", `UPDATE priors SET accounts = accounts + 1 WHERE id = (SELECT MIN(id) FROM priors WHERE snapshot_id = ?1)`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := open(t)
			snap := priorSnapshot(t, s, mixed(50))
			if _, err := s.db.Exec(tc.alter, snap.ID); err != nil {
				t.Fatal(err)
			}
			got, read, err := s.PriorAccounts(ctx, snap.ID)
			if err != nil {
				t.Fatal(err)
			}
			if read.Encoded || (read.Problem != "") != tc.problem {
				t.Fatalf("read %+v, want from the rows (problem: %v)", read, tc.problem)
			}
			sameAccounts(t, fromRows(t, s, snap.ID), got)
		})
	}
}

// TestPriorAccountsOfAFormatOneStore: the previous release's store has no
// priors; its accounts (assignments without an application) read as
// before.
func TestPriorAccountsOfAFormatOneStore(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/quickstart.db"
	copyFile(t, "../testdata/format1/quickstart.db", path)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sum, err := s.Get(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, read, err := s.PriorAccounts(ctx, sum.ID)
	if err != nil || read.Encoded {
		t.Fatalf("read %+v, %v", read, err)
	}
	if len(got) != sum.Accounts {
		t.Fatalf("%d accounts, want %d", len(got), sum.Accounts)
	}
	sameAccounts(t, fromRows(t, s, sum.ID), got)
	assigned := 0
	for _, a := range got {
		for _, as := range a.Assignments {
			if as.App == "" {
				t.Fatalf("%s: an assignment without an application", a.Key())
			}
			assigned++
		}
	}
	if assigned == 0 {
		t.Fatal("no assignments read from the format 1 store")
	}
	if res, err := s.Verify(ctx); err != nil || !res.Verified() {
		t.Fatalf("verify: %+v %v", res, err)
	}
}

func TestWritePriors(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	snap := priorSnapshot(t, s, mixed(20))
	count := func() (n int) {
		s.db.QueryRow(`SELECT COUNT(*) FROM priors WHERE snapshot_id = ?`, snap.ID).Scan(&n)
		return n
	}
	n := count()
	if n == 0 {
		t.Fatal("no priors written")
	}
	// Again: the snapshot has them, nothing changes.
	if err := s.WritePriors(ctx, snap); err != nil || count() != n {
		t.Fatalf("a second write: %v, %d chunks (had %d)", err, count(), n)
	}
	// Another snapshot's content under this ID is refused.
	s.db.Exec(`DELETE FROM priors WHERE snapshot_id = ?`, snap.ID)
	other := *snap
	other.Hash = strings.Repeat("0", 64)
	if err := s.WritePriors(ctx, &other); err == nil || count() != 0 {
		t.Fatalf("priors of another content: %v, %d chunks", err, count())
	}
}

// TestCheckPriors: verify's check finds priors that no longer agree with
// the account rows, whichever side changed.
func TestCheckPriors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		alter string
		want  string // in the problem; "" none
	}{
		{"as written", ``, ""},
		{"no priors", `DELETE FROM priors WHERE snapshot_id = ?1`, ""},
		{"a chunk in a layout this binary does not know", `UPDATE priors SET layout = 99, data = x'00' WHERE snapshot_id = ?1`, ""},
		{"a chunk's bytes changed", `UPDATE priors SET data = replace(data, CAST('user1@' AS BLOB), CAST('evil1@' AS BLOB)) WHERE snapshot_id = ?1`, "differs"},
		{"a chunk deleted", `DELETE FROM priors WHERE id = (SELECT MAX(id) FROM priors WHERE snapshot_id = ?1)`, "lack"},
		{"a chunk added", `INSERT INTO priors SELECT id + 100000, snapshot_id, source, accounts, layout, data FROM priors WHERE id = (SELECT MAX(id) FROM priors WHERE snapshot_id = ?1)`, "do not give"},
		{"an account row changed", `UPDATE accounts SET data = replace(data, 'user2@', 'evil2@') WHERE snapshot_id = ?1`, "differs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := open(t)
			snap := priorSnapshot(t, s, mixed(50))
			if tc.alter != "" {
				res, err := s.db.Exec(tc.alter, snap.ID)
				if err != nil {
					t.Fatal(err)
				}
				if n, _ := res.RowsAffected(); n == 0 {
					t.Fatal("the alteration changed nothing")
				}
			}
			p, err := s.checkPriors(ctx, snap.ID)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" && p != "" || !strings.Contains(p, tc.want) {
				t.Fatalf("problem %q, want %q", p, tc.want)
			}
		})
	}
}

// BenchmarkPriorLoad: what an incremental run reads of the previous
// snapshot before its sources start, from the account rows (every run
// before migration 10) and from the priors, at 10,000 to 1,000,000
// accounts (40% Okta, 40% Entra, 20% Stonly); and what writing the
// priors costs, with their size per account.
//
//	go test ./store -run '^$' -bench PriorLoad -benchmem -count 5
func BenchmarkPriorLoad(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("accounts=%d", n), func(b *testing.B) {
			s, _ := open(b)
			snap := priorSnapshot(b, s, scaleAccounts(n))
			for _, from := range []string{"rows", "priors"} {
				b.Run("from="+from, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						var accs []collectors.Account
						var read PriorRead
						var err error
						if from == "rows" {
							las, err2 := s.Accounts(ctx, snap.ID)
							accs, err = make([]collectors.Account, len(las)), err2
							for i := range las {
								accs[i] = las[i].Account
							}
						} else if accs, read, err = s.PriorAccounts(ctx, snap.ID); !read.Encoded {
							b.Fatalf("read %+v", read)
						}
						if err != nil || len(accs) != n {
							b.Fatalf("%d accounts, %v", len(accs), err)
						}
					}
				})
			}
			// What storing them costs a snapshot write.
			b.Run("write", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					if _, err := s.db.Exec(`DELETE FROM priors WHERE snapshot_id = ?`, snap.ID); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					if err := s.WritePriors(ctx, snap); err != nil {
						b.Fatal(err)
					}
				}
				var size int64
				s.db.QueryRow(`SELECT SUM(length(data)) FROM priors WHERE snapshot_id = ?`, snap.ID).Scan(&size)
				b.ReportMetric(float64(size)/float64(n), "bytes/account")
				s.db.QueryRow(`SELECT SUM(length(data)) FROM accounts WHERE snapshot_id = ?`, snap.ID).Scan(&size)
				b.ReportMetric(float64(size)/float64(n), "json-bytes/account")
			})
		})
	}
}

// scaleAccounts is n accounts shaped as the collectors report them at
// scale (pipeline's Synth): 40% Okta, 40% Entra, 20% Stonly.
func scaleAccounts(n int) []collectors.Account {
	people := n * 2 / 5
	accs := make([]collectors.Account, 0, n)
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < people; i++ {
		e := fmt.Sprintf("user%07d@acme.com", i)
		st, raw := collectors.StatusActive, "ACTIVE"
		if i%50 == 7 {
			st, raw = collectors.StatusInactive, "DEPROVISIONED"
		}
		a := collectors.Account{Source: "okta", ID: fmt.Sprintf("00u%017d", i), Email: e, Status: st, RawStatus: raw, EmployeeID: fmt.Sprintf("E%07d", i),
			Addresses: []collectors.Address{{Field: "login", Value: e}, {Field: "email", Value: e}}, StatusChanged: t0.Add(time.Duration(i) * time.Second),
			LastActivity: t0.Add(48 * time.Hour), DisplayName: fmt.Sprintf("User %d", i), Manager: fmt.Sprintf("user%07d@acme.com", i/10)}
		g := collectors.Account{Source: "entra", ID: fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i), Email: e, Status: st, EmployeeID: fmt.Sprintf("E%07d", i),
			DisplayName: fmt.Sprintf("User %d", i), Manager: fmt.Sprintf("user%07d@acme.com", i/20),
			Addresses: []collectors.Address{{Field: "userPrincipalName", Value: e}, {Field: "mail", Value: e}, {Field: "proxyAddresses", Value: "SMTP:" + e}}}
		if i%2 == 0 {
			a.Assignments = []collectors.Assignment{{App: "stonly", InForce: true, Via: []string{"group Stonly Users (priority 2)"}, Roles: []string{"Member"}}}
			a.Groups = []string{"00g2stonlyusers00000"}
			g.Assignments = []collectors.Assignment{{App: "stonly", InForce: true, Via: []string{"group Stonly Users (default access)"}}}
			g.Groups = []string{"Stonly Users"}
		}
		accs = append(accs, a, g)
	}
	for i := 0; len(accs) < n; i++ {
		e := fmt.Sprintf("user%07d@acme.com", i*2%max(people, 1))
		accs = append(accs, collectors.Account{Source: "stonly", ID: e, Team: fmt.Sprintf("team%d", i%5), TeamName: fmt.Sprintf("Team %d", i%5),
			Email: e, Role: "Member", Status: collectors.StatusActive, Addresses: []collectors.Address{{Field: "email", Value: e}}})
	}
	return accs
}
