package pipeline_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/graph"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/store"
)

// Synth builds n accounts over three sources the way the collectors
// report them: 40% Okta users, 40% Entra users (mostly the same people),
// 20% Stonly members over 5 teams, with 2% leavers still in Stonly, some
// aliases, guests and unknown accounts.
func Synth(n int) []collectors.Account {
	people := n * 2 / 5
	accs := make([]collectors.Account, 0, n)
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < people; i++ {
		e := fmt.Sprintf("user%07d@acme.com", i)
		st, raw := collectors.StatusActive, "ACTIVE"
		if i%50 == 7 {
			st, raw = collectors.StatusInactive, "DEPROVISIONED"
		}
		assigned := i%2 == 0
		a := collectors.Account{Source: "okta", ID: fmt.Sprintf("00u%09d", i), Email: e, Status: st, RawStatus: raw, EmployeeID: fmt.Sprintf("E%07d", i),
			Addresses: []collectors.Address{{Field: "login", Value: e}, {Field: "email", Value: e}}, StatusChanged: t0, DisplayName: fmt.Sprintf("User %d", i)}
		if assigned {
			a.Assignments = []collectors.Assignment{{App: "stonly", InForce: true, Via: []string{"group Stonly Users (priority 2)"}}}
			a.Groups = []string{"Stonly Users"}
			if i%40 == 0 {
				a.Groups = []string{"Stonly Admins"}
			}
		}
		accs = append(accs, a)
		g := collectors.Account{Source: "entra", ID: fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i), Email: e, Status: st, EmployeeID: fmt.Sprintf("E%07d", i),
			Addresses: []collectors.Address{{Field: "userPrincipalName", Value: e}, {Field: "mail", Value: e}, {Field: "proxyAddresses", Value: "SMTP:" + e}}}
		if i%50 == 3 {
			g.Addresses = append(g.Addresses, collectors.Address{Field: "proxyAddresses", Value: fmt.Sprintf("smtp:user%07d@acquisicorp.net", i)})
		}
		if assigned {
			g.Assignments = []collectors.Assignment{{App: "stonly", InForce: true, Via: []string{"group Stonly Users (default access)"}}}
		}
		accs = append(accs, g)
	}
	for i := 0; len(accs) < n; i++ {
		e := fmt.Sprintf("user%07d@acme.com", i*2%people)
		if i%100 == 99 {
			e = fmt.Sprintf("stranger%07d@gmail.com", i)
		}
		role := "Member"
		if i%40 == 0 {
			role = "Admin"
		}
		accs = append(accs, collectors.Account{Source: "stonly", ID: e, Team: fmt.Sprintf("team%d", i%5), TeamName: fmt.Sprintf("Team %d", i%5),
			Email: e, Role: role, Status: collectors.StatusActive, Addresses: []collectors.Address{{Field: "email", Value: e}}})
	}
	graph.SortAccounts(accs)
	return accs
}

var sizes = []int{10_000, 100_000, 1_000_000}

var roles = map[string]diff.App{"stonly": {Name: "stonly", Ladder: []string{"Member", "Admin", "Owner"}, Rules: []diff.RoleRule{
	{Sources: []string{"okta"}, Group: "Stonly Admins", Role: "Admin", Why: "okta group Stonly Admins"},
	{Sources: []string{"entra"}, AppRole: "Admin", Role: "Admin", Why: "entra app role Admin"},
	{Default: true, Role: "Member"}}}}

var sources = map[string]diff.Source{"okta": {Kind: collectors.KindIdP, Complete: true}, "entra": {Kind: collectors.KindIdP, Complete: true},
	"stonly": {Kind: collectors.KindApp, App: "stonly", Complete: true}}

var opts = graph.Options{Aliases: map[string]string{"acquisicorp.net": "acme.com"}, IdPs: map[string]bool{"okta": true, "entra": true}}

// BenchmarkCorrelateDiff: correlate + diff in memory.
//
//	go test ./pipeline -run '^$' -bench CorrelateDiff -benchtime 3x
func BenchmarkCorrelateDiff(b *testing.B) {
	for _, n := range sizes {
		accs := Synth(n)
		b.Run(fmt.Sprintf("accounts=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				g, err := graph.Correlate(accs, opts)
				if err != nil {
					b.Fatal(err)
				}
				in := diff.Input{Graph: g, Sources: sources, Apps: roles}
				fs, _ := diff.Analyze(in)
				b.ReportMetric(float64(len(fs)), "findings")
			}
		})
	}
}

func snapshotOf(b testing.TB, n int) *store.Snapshot {
	accs := Synth(n)
	g, err := graph.Correlate(accs, opts)
	if err != nil {
		b.Fatal(err)
	}
	in := diff.Input{Graph: g, Sources: sources, Apps: roles}
	snap := &store.Snapshot{StartedAt: time.Now(), FinishedAt: time.Now(), ConfigHash: "bench", Version: "bench", Graph: g}
	snap.Findings, snap.Expected = diff.Analyze(in)
	for name, s := range sources {
		snap.Sources = append(snap.Sources, store.Source{Info: collectors.Info{Name: name, Kind: s.Kind, App: s.App}, Completeness: collectors.Completeness{Complete: true}})
	}
	return snap
}

// BenchmarkSnapshotWrite: one snapshot into a fresh SQLite file.
//
//	go test ./pipeline -run '^$' -bench SnapshotWrite -benchtime 1x
func BenchmarkSnapshotWrite(b *testing.B) {
	for _, n := range sizes {
		snap := snapshotOf(b, n)
		b.Run(fmt.Sprintf("accounts=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"))
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := st.WriteSnapshot(context.Background(), snap); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				st.Close()
				b.StartTimer()
			}
		})
	}
}

// BenchmarkReadBack: opening the latest snapshot's findings, and the full
// report data plus both exports, at each size.
//
//	go test ./pipeline -run '^$' -bench ReadBack -benchtime 3x
func BenchmarkReadBack(b *testing.B) {
	for _, n := range sizes {
		snap := snapshotOf(b, n)
		st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"))
		if err != nil {
			b.Fatal(err)
		}
		if err := st.WriteSnapshot(context.Background(), snap); err != nil {
			b.Fatal(err)
		}
		// The name says how many findings are read: the scale company has a
		// few findings per hundred accounts, not one per account. The read is
		// warm (the file was just written, its pages are in the OS cache).
		b.Run(fmt.Sprintf("findings=%d/accounts=%d", len(snap.Findings), n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := st.Findings(context.Background(), 0+snap.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
		// What the people and exports read of a snapshot: every account row.
		b.Run(fmt.Sprintf("account-rows/accounts=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if accs, err := st.Accounts(context.Background(), snap.ID); err != nil || len(accs) != n {
					b.Fatalf("%d accounts, %v", len(accs), err)
				}
			}
		})
		// What an incremental run and drift read of the previous snapshot:
		// its priors (store/prior.go).
		b.Run(fmt.Sprintf("priors/accounts=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				accs, how, err := st.PriorAccounts(context.Background(), snap.ID)
				if err != nil || len(accs) != n || !how.Encoded {
					b.Fatalf("%d accounts from priors %v, %v", len(accs), how.Encoded, err)
				}
			}
		})
		b.Run(fmt.Sprintf("report+export/accounts=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				d, err := report.Load(context.Background(), st, snap.ID, "bench")
				if err != nil {
					b.Fatal(err)
				}
				if _, _, _, err := report.AccountsCSV(d, report.CSVOptions{}); err != nil {
					b.Fatal(err)
				}
				if _, _, _, err := report.FindingsCSV(d, report.CSVOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		st.Close()
	}
}
