// Package review holds the vocabulary of access review (the decisions a
// reviewer can make about a finding) and the rules every decision must
// pass, wherever it is made: `idgraph decide`, the web UI, the API. The
// rules live here once, so that no entry point can be laxer than another.
package review

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/idgraph/idgraph/diff"
)

// Kind is what a reviewer decided about a finding.
type Kind string

// The decisions a reviewer can make (docs/RULES.md, "Review and evidence").
const (
	Approve   Kind = "approve"   // keep the access; approvals expire
	Revoke    Kind = "revoke"    // remove the access
	Modify    Kind = "modify"    // change the role to a stated one
	Exception Kind = "exception" // keep on purpose, with an end date and a reason
)

// Kinds lists the decisions in the order forms offer them.
var Kinds = []Kind{Approve, Revoke, Modify, Exception}

// ParseKind reads a decision's name.
func ParseKind(s string) (Kind, error) {
	k := Kind(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Kinds, k) {
		return k, nil
	}
	if s == "" {
		return "", errors.New("choose a decision: approve, revoke, modify or exception")
	}
	return "", fmt.Errorf("decision must be approve, revoke, modify or exception, not %q", s)
}

// DefaultMaxApproval is how long an approval may last unless configured
// otherwise: a year, the usual period of a user access review.
const DefaultMaxApproval = 365 * 24 * time.Hour

// Policy is the configurable part of the rules.
type Policy struct {
	// MaxApproval bounds how far ahead an approval or exception may end;
	// zero means DefaultMaxApproval.
	MaxApproval time.Duration
	// Privileged names the roles whose removal or change needs a second
	// reviewer, compared case-insensitively; nil means Admin and Owner.
	Privileged []string
}

func (p Policy) maxApproval() time.Duration {
	if p.MaxApproval > 0 {
		return p.MaxApproval
	}
	return DefaultMaxApproval
}

func (p Policy) privileged(role string) bool {
	roles := p.Privileged
	if roles == nil {
		roles = []string{"Admin", "Owner"}
	}
	for _, r := range roles {
		if role != "" && strings.EqualFold(r, strings.TrimSpace(role)) {
			return true
		}
	}
	return false
}

// Request is a decision as a reviewer asks for it.
type Request struct {
	Decision      string
	Justification string
	Reviewer      string
	Role          string    // modify: the role to change to
	Expires       time.Time // approve: when it expires; exception: when it ends
	Now           time.Time
}

// Decision is a decision about a finding as it is recorded: every field
// but the confirmation is fixed when it is made.
type Decision struct {
	ID            int64     `json:"id"`
	FindingKey    string    `json:"finding_key"`
	FindingID     string    `json:"finding_id,omitempty"`
	Decision      string    `json:"decision"` // a Kind
	Justification string    `json:"justification"`
	Role          string    `json:"role,omitempty"`        // modify: the role to change to
	ExpiresAt     time.Time `json:"expires_at,omitzero"`   // approve: expiry; exception: end
	Reviewer      string    `json:"reviewer"`              // who decided
	DecidedAt     time.Time `json:"decided_at"`            // when
	SnapshotID    int64     `json:"snapshot_id"`           // the latest snapshot when it was decided
	NeedsSecond   bool      `json:"needs_second_reviewer"` // four eyes: pending until confirmed
	ConfirmedBy   string    `json:"confirmed_by,omitempty"`
	ConfirmedAt   time.Time `json:"confirmed_at,omitzero"`
}

// Kind returns the decision's kind.
func (d *Decision) Kind() Kind { return Kind(d.Decision) }

// Pending reports whether the decision waits for its second reviewer: a
// pending decision is recorded, but not in force.
func (d *Decision) Pending() bool { return d.NeedsSecond && d.ConfirmedBy == "" }

// Active reports whether a decision in force still holds at t: approvals
// expire and exceptions end; revokes and modifications do not.
func (d *Decision) Active(t time.Time) bool {
	return d.ExpiresAt.IsZero() || t.Before(d.ExpiresAt)
}

// State is a finding's review state at a moment, as lists and filters
// name it.
func (d *Decision) State(t time.Time) string {
	switch {
	case d == nil:
		return "undecided"
	case d.Pending():
		return d.Decision + " pending confirmation"
	case d.Kind() == Approve && !d.Active(t):
		return "approval expired"
	case d.Kind() == Exception && !d.Active(t):
		return "exception ended"
	case d.Kind() == Approve:
		return "approved"
	case d.Kind() == Revoke:
		return "revoke pending"
	case d.Kind() == Modify:
		return "modify to " + d.Role + " pending"
	}
	return d.Decision
}

// ErrRefused marks a decision the rules refuse (as opposed to a failure to
// record it): callers map it to exit code 2 or HTTP 400/403. Refusals
// match it with errors.Is; their text says what to change.
var ErrRefused = errors.New("the review rules refuse the decision")

// refusal is a refused decision.
type refusal struct{ msg string }

func (r *refusal) Error() string        { return r.msg }
func (r *refusal) Is(target error) bool { return target == ErrRefused }

// ErrSelfReview is the refusal of a reviewer deciding about their own
// access.
var ErrSelfReview error = &refusal{"a reviewer cannot decide about their own access; ask another reviewer"}

func refuse(format string, args ...any) error {
	return &refusal{fmt.Sprintf(format, args...)}
}

// Check applies the rules to a request about finding f and returns the
// decision to record (not yet numbered), or an error wrapping ErrRefused
// that says what to change.
func Check(p Policy, f *diff.Finding, req Request) (*Decision, error) {
	who := strings.ToLower(strings.TrimSpace(req.Reviewer))
	if who == "" || who == "token" {
		return nil, refuse("a decision needs a named reviewer (an email address)")
	}
	k, err := ParseKind(req.Decision)
	if err != nil {
		return nil, &refusal{err.Error()}
	}
	just := strings.TrimSpace(req.Justification)
	if just == "" {
		return nil, refuse("a justification is required: say why")
	}
	if About(f, who) {
		return nil, ErrSelfReview
	}
	now := req.Now.UTC()
	d := &Decision{FindingKey: f.Key, FindingID: f.ID, Decision: string(k), Justification: just, Reviewer: who, DecidedAt: now}
	limit := now.Add(p.maxApproval())
	switch k {
	case Approve, Exception:
		what := "an approval needs an expiry date"
		if k == Exception {
			what = "an exception needs an end date"
		}
		switch {
		case req.Expires.IsZero():
			return nil, refuse("%s", what)
		case !req.Expires.After(now):
			return nil, refuse("the %s date %s is not in the future", dateWord(k), day(req.Expires))
		case req.Expires.After(limit):
			return nil, refuse("the %s date %s is beyond the longest allowed (%s, %d days from now): review it again by then",
				dateWord(k), day(req.Expires), day(limit), int(p.maxApproval().Hours()/24))
		}
		d.ExpiresAt = req.Expires.UTC()
	case Modify:
		role := strings.TrimSpace(req.Role)
		if role == "" {
			return nil, refuse("modify needs the role to change to (--role)")
		}
		if strings.EqualFold(role, f.ActualRole) {
			return nil, refuse("the account already has the role %s", f.ActualRole)
		}
		d.Role = role
		fallthrough
	case Revoke:
		if !req.Expires.IsZero() {
			return nil, refuse("%s takes no expiry date", k)
		}
	}
	if req.Role != "" && k != Modify {
		return nil, refuse("only modify takes a role")
	}
	d.NeedsSecond = NeedsSecond(p, f, d)
	return d, nil
}

func dateWord(k Kind) string {
	if k == Exception {
		return "end"
	}
	return "expiry"
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// NeedsSecond reports whether a decision needs a second reviewer (four
// eyes): approving a critical finding, revoking privileged access, and
// modifying privileged access or granting it.
func NeedsSecond(p Policy, f *diff.Finding, d *Decision) bool {
	switch d.Kind() {
	case Approve:
		return f.Severity == diff.SevCritical
	case Revoke:
		return p.privileged(f.ActualRole)
	case Modify:
		return p.privileged(f.ActualRole) || p.privileged(d.Role)
	}
	return false
}

// CheckConfirm applies the rules to a second reviewer confirming pending
// decision d about finding f.
func CheckConfirm(f *diff.Finding, d *Decision, reviewer string) (string, error) {
	who := strings.ToLower(strings.TrimSpace(reviewer))
	switch {
	case who == "" || who == "token":
		return "", refuse("a confirmation needs a named reviewer (an email address)")
	case d == nil:
		return "", refuse("finding %s has no decision waiting for confirmation", f.ID)
	case !d.NeedsSecond:
		return "", refuse("decision %d needs no second reviewer", d.ID)
	case d.ConfirmedBy != "":
		return "", refuse("decision %d was confirmed by %s already", d.ID, d.ConfirmedBy)
	case strings.EqualFold(d.Reviewer, who):
		return "", refuse("the second reviewer must be another person than %s, who made the decision", d.Reviewer)
	case About(f, who):
		return "", ErrSelfReview
	}
	return who, nil
}

// About reports whether the finding is about the reviewer: their address
// is the finding's, or one of its evidence's.
func About(f *diff.Finding, who string) bool {
	who = strings.ToLower(strings.TrimSpace(who))
	if who == "" {
		return false
	}
	if strings.EqualFold(strings.TrimSpace(f.Email), who) {
		return true
	}
	for _, e := range f.Evidence {
		if strings.EqualFold(strings.TrimSpace(e.Email), who) {
			return true
		}
	}
	return false
}

// InForce returns the decision in force among a finding's decisions,
// oldest first: the newest that is not waiting for its second reviewer.
// A later pending decision never silently replaces an earlier one.
func InForce(history []Decision) *Decision {
	for i := len(history) - 1; i >= 0; i-- {
		if !history[i].Pending() {
			return &history[i]
		}
	}
	return nil
}

// Latest returns the newest decision about a finding, pending or not.
func Latest(history []Decision) *Decision {
	if len(history) == 0 {
		return nil
	}
	return &history[len(history)-1]
}
