package review

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idgraph/idgraph/diff"
)

var now = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func TestCheck(t *testing.T) {
	leaverAdmin := &diff.Finding{Key: "orphaned/stonly/x", ID: "f1", Kind: diff.KindOrphaned, Severity: diff.SevCritical, Email: "leaver@acme.com", ActualRole: "Admin"}
	member := &diff.Finding{Key: "unassigned/stonly/y", ID: "f2", Kind: diff.KindUnassigned, Severity: diff.SevMedium, Email: "ann@acme.com", ActualRole: "Member",
		Evidence: []diff.Evidence{{Email: "Ann.Alias@acme.com"}}}
	tests := []struct {
		name   string
		f      *diff.Finding
		req    Request
		want   string // in the error; "" for accepted
		second bool
	}{
		{"approve for a year", member, Request{Decision: "approve", Justification: "needs it", Reviewer: "bob@acme.com", Expires: now.AddDate(1, 0, 0)}, "", false},
		{"approve for ten years", member, Request{Decision: "approve", Justification: "forever", Reviewer: "bob@acme.com", Expires: now.AddDate(10, 0, 0)}, "beyond the longest allowed", false},
		{"approve without expiry", member, Request{Decision: "approve", Justification: "ok", Reviewer: "bob@acme.com"}, "needs an expiry date", false},
		{"approve in the past", member, Request{Decision: "approve", Justification: "ok", Reviewer: "bob@acme.com", Expires: now.Add(-time.Hour)}, "not in the future", false},
		{"approve a critical finding", leaverAdmin, Request{Decision: "approve", Justification: "handover", Reviewer: "bob@acme.com", Expires: now.AddDate(0, 1, 0)}, "", true},
		{"no decision chosen", member, Request{Justification: "ok", Reviewer: "bob@acme.com"}, "choose a decision", false},
		{"unknown decision", member, Request{Decision: "keep", Justification: "ok", Reviewer: "bob@acme.com"}, "not \"keep\"", false},
		{"no justification", member, Request{Decision: "revoke", Justification: "  ", Reviewer: "bob@acme.com"}, "justification is required", false},
		{"no reviewer", member, Request{Decision: "revoke", Justification: "x"}, "named reviewer", false},
		{"self-review", member, Request{Decision: "approve", Justification: "mine", Reviewer: "ANN@acme.com", Expires: now.AddDate(0, 1, 0)}, "their own access", false},
		{"self-review through an alias", member, Request{Decision: "revoke", Justification: "mine", Reviewer: "ann.alias@acme.com"}, "their own access", false},
		{"revoke a member", member, Request{Decision: "revoke", Justification: "bypass", Reviewer: "bob@acme.com"}, "", false},
		{"revoke an admin", leaverAdmin, Request{Decision: "revoke", Justification: "left", Reviewer: "bob@acme.com"}, "", true},
		{"revoke with expiry", member, Request{Decision: "revoke", Justification: "x", Reviewer: "bob@acme.com", Expires: now.AddDate(0, 1, 0)}, "takes no expiry", false},
		{"modify without role", member, Request{Decision: "modify", Justification: "x", Reviewer: "bob@acme.com"}, "role to change to", false},
		{"modify to the same role", member, Request{Decision: "modify", Justification: "x", Reviewer: "bob@acme.com", Role: "member"}, "already has the role", false},
		{"modify an admin down", leaverAdmin, Request{Decision: "modify", Justification: "x", Reviewer: "bob@acme.com", Role: "Member"}, "", true},
		{"modify a member up to owner", member, Request{Decision: "modify", Justification: "x", Reviewer: "bob@acme.com", Role: "Owner"}, "", true},
		{"role on a revoke", member, Request{Decision: "revoke", Justification: "x", Reviewer: "bob@acme.com", Role: "Admin"}, "only modify takes a role", false},
		{"exception without end", member, Request{Decision: "exception", Justification: "service account", Reviewer: "bob@acme.com"}, "needs an end date", false},
		{"exception with end", member, Request{Decision: "exception", Justification: "service account", Reviewer: "bob@acme.com", Expires: now.AddDate(0, 6, 0)}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Now = now
			d, err := Check(Policy{}, tc.f, tc.req)
			if tc.want != "" {
				if err == nil || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want one saying %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.NeedsSecond != tc.second || d.FindingKey != tc.f.Key || d.Reviewer != strings.ToLower(tc.req.Reviewer) || !d.DecidedAt.Equal(now) {
				t.Errorf("decision %+v", d)
			}
		})
	}
	// A configured maximum replaces the default year.
	if _, err := Check(Policy{MaxApproval: 90 * 24 * time.Hour}, member, Request{Decision: "approve", Justification: "ok", Reviewer: "bob@acme.com", Expires: now.AddDate(0, 6, 0), Now: now}); err == nil {
		t.Error("a 6-month approval passed a 90-day maximum")
	}
}

func TestConfirmAndState(t *testing.T) {
	f := &diff.Finding{Key: "k", ID: "f1", Severity: diff.SevCritical, Email: "leaver@acme.com", ActualRole: "Owner"}
	d, err := Check(Policy{}, f, Request{Decision: "revoke", Justification: "left", Reviewer: "ann@acme.com", Now: now})
	if err != nil || !d.Pending() {
		t.Fatalf("%+v %v", d, err)
	}
	if d.State(now) != "revoke pending confirmation" {
		t.Errorf("state %q", d.State(now))
	}
	for _, who := range []string{"Ann@acme.com", "leaver@acme.com", ""} {
		if _, err := CheckConfirm(f, d, who); !errors.Is(err, ErrRefused) {
			t.Errorf("%q confirmed: %v", who, err)
		}
	}
	if who, err := CheckConfirm(f, d, "Bob@acme.com"); err != nil || who != "bob@acme.com" {
		t.Fatalf("second reviewer: %q %v", who, err)
	}
	earlier := Decision{ID: 1, Decision: "exception", ExpiresAt: now.Add(time.Hour)}
	history := []Decision{earlier, *d}
	if in := InForce(history); in == nil || in.ID != 1 {
		t.Errorf("a pending decision replaced the one in force: %+v", in)
	}
	if got := earlier.State(now.Add(2 * time.Hour)); got != "exception ended" {
		t.Errorf("an exception past its end is %q", got)
	}
	history[1].ConfirmedBy = "bob@acme.com"
	if in := InForce(history); in.Decision != "revoke" || in.State(now) != "revoke pending" {
		t.Errorf("confirmed decision not in force: %+v", in)
	}
}
