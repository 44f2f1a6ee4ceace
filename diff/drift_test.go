package diff

import (
	"testing"

	"github.com/idgraph/idgraph/collectors"
)

func TestCompare(t *testing.T) {
	f := func(key, sev, state string) Finding {
		return Finding{Key: key, Kind: "orphaned", Severity: sev, State: state}
	}
	a := func(src, id, role, raw string) collectors.Account {
		return collectors.Account{Source: src, ID: id, Role: role, RawStatus: raw, Status: collectors.StatusActive}
	}
	prev := Snapshot{ID: 1,
		Findings: []Finding{f("stays", SevHigh, StateOpen), f("goes", SevHigh, StateOpen), f("escalates", SevMedium, StateOpen), f("unknown-now", SevHigh, StateOpen),
			{Key: "vanished-with-entra", Severity: SevHigh, State: StateOpen, DependsOn: []string{"entra"}}},
		Accounts: []collectors.Account{a("stonly", "kept", "Member", ""), a("stonly", "removed", "Member", ""), a("okta", "u1", "", "ACTIVE"), a("entra", "g1", "", "")},
	}
	cur := Snapshot{ID: 2,
		Findings: []Finding{f("stays", SevHigh, StateOpen), f("escalates", SevCritical, StateOpen), f("new", SevHigh, StateOpen), f("unknown-now", SevHigh, StateUnknown), f("unknown-new", SevHigh, StateUnknown)},
		Accounts: []collectors.Account{a("stonly", "kept", "Admin", ""), a("stonly", "created", "Member", ""), a("okta", "u1", "", "SUSPENDED")},
		// entra failed this time: its account must not count as removed.
		Incomplete: map[string]bool{"entra": true},
	}
	d := Compare(prev, cur)
	check := func(name string, got []Finding, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s = %v, want %v", name, keys(got), want)
		}
		for i := range want {
			if got[i].Key != want[i] {
				t.Errorf("%s = %v, want %v", name, keys(got), want)
			}
		}
	}
	check("appeared", d.Appeared, "new")
	check("resolved", d.Resolved, "goes")
	check("escalated", d.Escalated, "escalates")
	if len(d.AccountsCreated) != 1 || d.AccountsCreated[0].Account != "stonly:created" {
		t.Errorf("created = %+v", d.AccountsCreated)
	}
	if len(d.AccountsRemoved) != 1 || d.AccountsRemoved[0].Account != "stonly:removed" {
		t.Errorf("removed = %+v (an incomplete source must not produce removals)", d.AccountsRemoved)
	}
	if len(d.RoleChanges) != 1 || d.RoleChanges[0].From != "Member" || d.RoleChanges[0].To != "Admin" {
		t.Errorf("role changes = %+v", d.RoleChanges)
	}
	if len(d.StatusChanges) != 1 || d.StatusChanges[0].To != "SUSPENDED" {
		t.Errorf("status changes = %+v", d.StatusChanges)
	}
	if d.Empty() {
		t.Error("Empty() = true")
	}
	if same := Compare(prev, prev); !same.Empty() {
		t.Errorf("a snapshot compared with itself drifted: %+v", same)
	}
}

func keys(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Key)
	}
	return out
}
