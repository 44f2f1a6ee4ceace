// Package remediation turns approved review decisions into changes in the
// applications, safely, and proves them (docs/RULES.md, "Remediation"):
//
//   - the plan: one planned action per revoke or modify decision in force
//     whose finding still holds its account in the latest snapshot;
//   - apply: a dry run unless asked, refused by the kill switch, by the
//     caps (a number of actions and a share of an application) before
//     anything starts, by a read of the application that is stale or
//     incomplete, and per action when the person applying it decided it;
//   - proof: an action is pending until the next complete read of the
//     application shows it carried out (confirmed) or not (unconfirmed).
//
// The package never knows how an application is driven: the caller hands
// it the sources that can act (collectors.Actor) by application. Every
// action and every proof is an entry of the evidence chain.
package remediation

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/review"
	"github.com/idgraph/idgraph/store"
)

// Limits are the safety settings of remediation (config remediation.*).
type Limits struct {
	Enabled    bool          // the kill switch: false disables every action
	MaxActions int           // most actions in one apply
	MaxShare   float64       // most actions in one application, as a share of its accounts
	MaxAge     time.Duration // oldest an application's last complete read may be
}

// LimitsOf returns the configured limits with their defaults.
func LimitsOf(r config.Remediation) Limits {
	n, share, age := r.Limits()
	return Limits{Enabled: r.Enabled, MaxActions: n, MaxShare: share, MaxAge: age}
}

// Item is one planned action: what a decision in force would change.
type Item struct {
	// ID names the action in a batch and in the evidence: "d" and the
	// decision's id.
	ID            string        `json:"id"`
	DecisionID    int64         `json:"decision_id"`
	Decision      string        `json:"decision"` // revoke or modify
	Justification string        `json:"justification"`
	DecidedBy     string        `json:"decided_by"`
	DecidedAt     time.Time     `json:"decided_at"`
	ConfirmedBy   string        `json:"confirmed_by,omitempty"` // the second reviewer, for four eyes
	ConfirmedAt   time.Time     `json:"confirmed_at,omitzero"`
	FindingKey    string        `json:"finding_key"`
	FindingID     string        `json:"finding_id"`
	Kind          string        `json:"kind"` // the finding's
	Severity      string        `json:"severity"`
	App           string        `json:"app"`
	Source        string        `json:"source"`
	Team          string        `json:"team,omitempty"`
	TeamName      string        `json:"team_name,omitempty"`
	Email         string        `json:"email"`
	Op            collectors.Op `json:"op"`
	Role          string        `json:"role,omitempty"` // set_role: the role to set
	// Account is the account as the latest snapshot read it: the action
	// re-reads it first and refuses when it differs.
	Account collectors.Account `json:"account"`
	// Manual says why idgraph will not carry it out (the application's
	// source cannot act); "" when it will.
	Manual string `json:"manual,omitempty"`
	// Last is the outcome of the last attempt, if any.
	Last *Attempt `json:"last_attempt,omitempty"`
	// Changed says how a read since the decision differs from the
	// account as decided ("" when it does not).
	Changed string `json:"changed_since_decision,omitempty"`
}

// Attempt is an earlier action for the same decision.
type Attempt struct {
	Action  int64     `json:"action"`
	Outcome string    `json:"outcome"` // or "unconfirmed"
	Detail  string    `json:"detail"`
	At      time.Time `json:"at"`
}

// Change says in words what the item changes.
func (it Item) Change() string {
	where := it.TeamName
	if where == "" {
		where = it.Team
	}
	if where != "" {
		where = " in team " + where
	}
	switch it.Op {
	case collectors.OpRemove:
		role := ""
		if it.Account.Role != "" {
			role = " (" + it.Account.Role + ")"
		}
		return "remove " + it.Email + role + where
	case collectors.OpSetRole:
		return fmt.Sprintf("change %s%s from %s to %s", it.Email, where, orDash(it.Account.Role), it.Role)
	case collectors.OpRevokeInvitation:
		return "revoke the invitation of " + it.Email + where
	}
	return string(it.Op) + " " + it.Email + where
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Read is what the latest snapshot says of an application's read.
type Read struct {
	Snapshot   int64     `json:"snapshot"`
	FinishedAt time.Time `json:"finished_at"`
	Complete   bool      `json:"complete"`
	// Problem says why actions must wait ("" when the read is complete
	// and fresh enough).
	Problem string `json:"problem,omitempty"`
}

// AppPlan is the plan of one application.
type AppPlan struct {
	App      string   `json:"app"`
	Sources  []string `json:"sources"`
	Accounts int      `json:"accounts"` // the application's accounts in the latest snapshot
	CanAct   bool     `json:"can_act"`
	Manual   string   `json:"manual,omitempty"` // why idgraph cannot act in it
	Read     Read     `json:"read"`
	Items    []Item   `json:"items"`
	// Digest names exactly this plan: a reviewer who approved what a page
	// showed applies that and nothing else.
	Digest string `json:"digest"`
}

// Auto returns the items idgraph would carry out.
func (p *AppPlan) Auto() []Item {
	var out []Item
	for _, it := range p.Items {
		if it.Manual == "" {
			out = append(out, it)
		}
	}
	return out
}

// Unplanned is a decision in force that plans nothing, and why.
type Unplanned struct {
	DecisionID int64  `json:"decision_id"`
	FindingKey string `json:"finding_key"`
	Why        string `json:"why"`
}

// Plan is what the approved decisions would change, as of the latest
// snapshot.
type Plan struct {
	Snapshot   int64       `json:"snapshot"`
	SnapshotAt time.Time   `json:"snapshot_at"`
	Apps       []AppPlan   `json:"apps"`
	Unplanned  []Unplanned `json:"unplanned"`
}

// App returns the plan of app, or nil.
func (p *Plan) App(app string) *AppPlan {
	for i := range p.Apps {
		if p.Apps[i].App == app {
			return &p.Apps[i]
		}
	}
	return nil
}

// Items counts the planned items, all or only those idgraph would run.
func (p *Plan) Items(auto bool) int {
	n := 0
	for i := range p.Apps {
		if auto {
			n += len(p.Apps[i].Auto())
		} else {
			n += len(p.Apps[i].Items)
		}
	}
	return n
}

// Engine plans, applies and reports remediation against one store.
type Engine struct {
	Store *store.Store
	// Actors are the sources that can carry out actions, by application
	// (collectors.Info.App); an application without one is planned as
	// manual, with Manual's reason when given.
	Actors map[string]collectors.Actor
	Manual map[string]string
	Limits Limits
	// ConfigFile names the configuration in refusals ("set
	// remediation.enabled: true in FILE").
	ConfigFile string
	// CaptureDir is where the evidence captures of actions are written.
	CaptureDir string
	// LogFile is the evidence log file that every record is appended to;
	// "" for none.
	LogFile string
	Now     func() time.Time

	// applying serialises the batches of one engine: two reviewers who
	// approve at once (the service) run one after the other, and the
	// second finds the first's actions pending instead of repeating them.
	applying sync.Mutex
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

// Plan returns what the decisions in force would change in app ("" for
// every application). It changes nothing.
func (e *Engine) Plan(ctx context.Context, app string) (*Plan, error) {
	st := e.Store
	sum, err := st.Get(ctx, 0)
	if err != nil {
		return nil, err
	}
	p := &Plan{Snapshot: sum.ID, SnapshotAt: sum.FinishedAt, Apps: []AppPlan{}, Unplanned: []Unplanned{}}
	// The application sources of the latest snapshot, by name.
	srcApp := map[string]string{}
	byApp := map[string][]store.Source{}
	for _, s := range sum.Sources {
		if s.Info.Kind != collectors.KindApp {
			continue
		}
		srcApp[s.Info.Name] = s.Info.App
		byApp[s.Info.App] = append(byApp[s.Info.App], s)
	}
	// The accounts as each application source last read them completely:
	// a source incomplete now keeps its items in the plan, with the facts
	// of its last complete read, so that apply refuses them (the read is
	// incomplete) instead of the plan silently forgetting them.
	accounts := map[string]collectors.Account{}
	count := map[string]int{}
	for _, src := range sum.Sources {
		if src.Info.Kind != collectors.KindApp {
			continue
		}
		id := sum.ID
		if !src.Completeness.Complete {
			if id, _, err = st.LastComplete(ctx, src.Info.Name); err != nil {
				return nil, err
			}
			if id == 0 {
				continue
			}
		}
		las, err := st.Accounts(ctx, id, src.Info.Name)
		if err != nil {
			return nil, err
		}
		for _, la := range las {
			accounts[la.Account.Key()] = la.Account
			count[srcApp[la.Account.Source]]++
		}
	}
	fs, err := st.Findings(ctx, sum.ID)
	if err != nil {
		return nil, err
	}
	findings := map[string]*diff.Finding{}
	for i := range fs {
		findings[fs[i].Key] = &fs[i]
	}
	cur, _, err := st.Decisions(ctx, false)
	if err != nil {
		return nil, err
	}
	acts, proofs, err := st.Remediations(ctx)
	if err != nil {
		return nil, err
	}
	last := map[int64]*store.Action{} // the last action of each decision
	for i := range acts {
		last[acts[i].DecisionID] = &acts[i]
	}
	// decided returns an account as a decision's snapshot read it.
	bySnap := map[string]map[string]collectors.Account{} // by snapshot and source
	decided := func(snap int64, key string) (collectors.Account, bool, error) {
		if snap == sum.ID {
			acc, ok := accounts[key]
			return acc, ok, nil
		}
		src, _, _ := strings.Cut(key, ":")
		m, ok := bySnap[fmt.Sprintf("%d/%s", snap, src)]
		if !ok {
			m = map[string]collectors.Account{}
			las, err := st.Accounts(ctx, snap, src)
			if err != nil {
				return collectors.Account{}, false, err
			}
			for _, la := range las {
				m[la.Account.Key()] = la.Account
			}
			bySnap[fmt.Sprintf("%d/%s", snap, src)] = m
		}
		acc, ok := m[key]
		return acc, ok, nil
	}
	plans := map[string]*AppPlan{}
	for _, key := range sortedKeys(cur) {
		d := cur[key]
		if d.Kind() != review.Revoke && d.Kind() != review.Modify {
			continue
		}
		skip := func(format string, args ...any) {
			p.Unplanned = append(p.Unplanned, Unplanned{DecisionID: d.ID, FindingKey: key, Why: fmt.Sprintf(format, args...)})
		}
		f := findings[key]
		if f == nil {
			skip("the finding is not in the latest snapshot (%d): resolved", sum.ID)
			continue
		}
		acc, ok := accounts[f.Account]
		if !ok {
			skip("snapshot %d holds no application account %s", sum.ID, orDash(f.Account))
			continue
		}
		a := srcApp[acc.Source]
		if app != "" && a != app {
			continue
		}
		// The action carries the account as the decision saw it (the
		// contract of collectors.Action): the source re-reads it and refuses
		// when it differs. A read since the decision that already shows a
		// difference is said in the plan.
		now, changed := acc, ""
		if was, ok, err := decided(d.SnapshotID, f.Account); err != nil {
			return nil, err
		} else if ok {
			if !strings.EqualFold(was.Role, acc.Role) || was.Status != acc.Status {
				changed = fmt.Sprintf("changed since the decision: %s was %s (%s) in snapshot %d, and is %s (%s) in snapshot %d; the source will refuse the action: decide again",
					acc.Email, orDash(was.Role), was.Status, d.SnapshotID, orDash(acc.Role), acc.Status, sum.ID)
			}
			acc = was
		}
		it := Item{ID: fmt.Sprintf("d%d", d.ID), DecisionID: d.ID, Decision: d.Decision, Justification: d.Justification,
			DecidedBy: d.Reviewer, DecidedAt: d.DecidedAt, ConfirmedBy: d.ConfirmedBy, ConfirmedAt: d.ConfirmedAt,
			FindingKey: f.Key, FindingID: f.ID, Kind: f.Kind, Severity: f.Severity, App: a, Source: acc.Source,
			Team: acc.Team, TeamName: acc.TeamName, Email: acc.Email, Account: acc, Changed: changed}
		if la := last[d.ID]; la != nil {
			at := Attempt{Action: la.ID, Outcome: la.Outcome, Detail: la.Detail, At: la.EndedAt}
			pr, proved := proofs[la.ID]
			switch {
			case done(la.Outcome) && !proved:
				skip("action %d carried it out on %s; it waits for the next complete read of %s to confirm it", la.ID, stamp(la.EndedAt), a)
				continue
			case done(la.Outcome) && pr.State == store.ProofConfirmed:
				// Carried out and proven: the account is back since (re-invited,
				// restored). Acting again on an old decision could undo a
				// deliberate change: a reviewer decides again.
				skip("action %d carried it out and snapshot %d confirmed it; the account is back since: decide again", la.ID, pr.SnapshotID)
				continue
			case done(la.Outcome):
				at.Outcome, at.Detail = "unconfirmed", pr.Detail
			}
			it.Last = &at
		}
		invited := acc.Status == collectors.StatusInvited
		switch {
		case d.Kind() == review.Revoke && invited:
			it.Op = collectors.OpRevokeInvitation
		case d.Kind() == review.Revoke:
			it.Op = collectors.OpRemove
		case invited:
			it.Op, it.Role = collectors.OpSetRole, d.Role
			it.Manual = "an invitation has no role to change: revoke it and invite again, or change it in the application"
		case strings.EqualFold(now.Role, d.Role):
			skip("%s is already %s in snapshot %d", now.Email, now.Role, sum.ID)
			continue
		default:
			it.Op, it.Role = collectors.OpSetRole, d.Role
		}
		ap := plans[a]
		if ap == nil {
			ap = e.appPlan(a, byApp[a], count[a], sum)
			plans[a] = ap
		}
		if !ap.CanAct && it.Manual == "" {
			it.Manual = ap.Manual
		}
		ap.Items = append(ap.Items, it)
	}
	for _, a := range sortedKeys(plans) {
		ap := plans[a]
		slices.SortFunc(ap.Items, func(x, y Item) int {
			return cmp.Or(cmp.Compare(x.TeamName+x.Team, y.TeamName+y.Team), cmp.Compare(x.Email, y.Email), cmp.Compare(x.DecisionID, y.DecisionID))
		})
		ap.Digest = digest(ap)
		p.Apps = append(p.Apps, *ap)
	}
	return p, nil
}

// appPlan describes app's read and whether idgraph can act in it.
func (e *Engine) appPlan(app string, srcs []store.Source, accounts int, sum *store.Summary) *AppPlan {
	ap := &AppPlan{App: app, Accounts: accounts, Items: []Item{}, Read: Read{Snapshot: sum.ID, FinishedAt: sum.FinishedAt, Complete: true}}
	var bad []string
	for _, s := range srcs {
		ap.Sources = append(ap.Sources, s.Info.Name)
		if !s.Completeness.Complete {
			why := strings.Join(s.Completeness.Errors, "; ")
			if why == "" {
				why = "it did not finish"
			}
			bad = append(bad, s.Info.Name+": "+why)
		}
	}
	age := e.now().Sub(sum.FinishedAt)
	switch {
	case len(bad) > 0:
		ap.Read.Complete = false
		ap.Read.Problem = fmt.Sprintf("the latest read of %s (snapshot %d) was incomplete (%s): actions wait for a complete read; fix the source and run again",
			app, sum.ID, strings.Join(bad, "; "))
	case age > e.Limits.MaxAge:
		ap.Read.Problem = fmt.Sprintf("the last complete read of %s (snapshot %d, %s) is %s old, older than remediation.max_age (%s): actions wait for a fresh read",
			app, sum.ID, stamp(sum.FinishedAt), age.Round(time.Minute), e.Limits.MaxAge)
	}
	if _, ok := e.Actors[app]; ok {
		ap.CanAct = true
	} else {
		ap.Manual = e.Manual[app]
		if ap.Manual == "" {
			ap.Manual = fmt.Sprintf("no configured source of %s can change it: carry it out by hand in the application; the next read confirms it", app)
		}
	}
	return ap
}

// done reports whether an outcome left the application as decided.
func done(outcome string) bool {
	return outcome == string(collectors.OutcomeDone) || outcome == string(collectors.OutcomeAlreadyDone)
}

func digest(ap *AppPlan) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", ap.App)
	for _, it := range ap.Items {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\n", it.ID, it.Op, it.Role, it.Account.Key(), it.Account.Email,
			it.Account.Role, it.Account.Status, it.Manual, it.Changed)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
