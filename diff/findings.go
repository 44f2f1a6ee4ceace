// Package diff compares what the identity providers say against what the
// application has, and one snapshot against another.
package diff

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/graph"
)

// Finding kinds (docs/RULES.md), plus conflict for correlations the graph
// refused to make.
const (
	KindOrphaned     = "orphaned"
	KindUnassigned   = "unassigned"
	KindMissing      = "missing"
	KindRoleMismatch = "role_mismatch"
	KindIdPConflict  = "idp_conflict"
	KindDuplicate    = "duplicate"
	KindConflict     = "conflict"
	KindOpenAccess   = "open_access"
)

// Severities, in rising order.
const (
	SevInfo     = "info"
	SevLow      = "low"
	SevMedium   = "medium"
	SevHigh     = "high"
	SevCritical = "critical"
)

// SeverityRank orders severities; unknown text ranks 0.
func SeverityRank(s string) int {
	switch s {
	case SevInfo:
		return 1
	case SevLow:
		return 2
	case SevMedium:
		return 3
	case SevHigh:
		return 4
	case SevCritical:
		return 5
	}
	return 0
}

// States of a finding in a snapshot.
const (
	StateOpen    = "open"    // a fact: every source it depends on was complete
	StateUnknown = "unknown" // a source it depends on was incomplete
)

// Evidence is one fact behind a finding.
type Evidence struct {
	Source  string `json:"source"`
	Account string `json:"account"`
	Email   string `json:"email,omitempty"`
	Status  string `json:"status,omitempty"`
	Detail  string `json:"detail"`
}

// Finding is one discrepancy.
type Finding struct {
	ID           string     `json:"id"`  // short hash of Key
	Key          string     `json:"key"` // kind/app/subject: stable across snapshots
	Kind         string     `json:"kind"`
	Reason       string     `json:"reason"`
	Severity     string     `json:"severity"`
	State        string     `json:"state"`
	App          string     `json:"app"`
	Team         string     `json:"team"`
	TeamName     string     `json:"team_name,omitempty"`
	Email        string     `json:"email"`
	DisplayName  string     `json:"display_name,omitempty"`
	Person       string     `json:"person"`
	Account      string     `json:"account,omitempty"`
	ActualRole   string     `json:"actual_role"`
	ExpectedRole string     `json:"expected_role"`
	ExpectedWhy  string     `json:"expected_why,omitempty"`
	Explanation  string     `json:"explanation"`
	Evidence     []Evidence `json:"evidence"`
	DependsOn    []string   `json:"depends_on"`
	FirstSeen    time.Time  `json:"first_seen"`
	FirstSnap    int64      `json:"first_seen_snapshot"`
	LastSeen     time.Time  `json:"last_seen"`
	LastSnap     int64      `json:"last_seen_snapshot"`
	// LastConfirmed is the snapshot in which the finding was last a fact
	// (state open); for an unknown finding it dates what is known of it.
	LastConfirmed int64 `json:"last_confirmed_snapshot,omitempty"`
	// Carried: the finding could not be re-evaluated in this run, because a
	// source it depends on was incomplete; its facts are those it had in
	// LastConfirmed. Nothing vanishes because a source failed.
	Carried bool `json:"carried,omitempty"`
	// Unchecked names the incomplete sources that kept an unknown finding
	// from being re-checked.
	Unchecked []string `json:"unchecked,omitempty"`
}

// Source is what the findings engine needs to know of a configured source.
type Source struct {
	Kind     collectors.Kind
	App      string
	Complete bool
	// OpenAccess: this IdP lets every enabled user sign in to the app
	// without an assignment (Entra appRoleAssignmentRequired: false). Its
	// assignments still say who should have the app; its silence says
	// nothing, so no account is unassigned on its word alone.
	OpenAccess bool
	OpenDetail string // evidence of the setting, for the open_access finding
}

// Input is everything Evaluate reads.
type Input struct {
	Graph   *graph.Graph
	Sources map[string]Source
	Roles   []config.RoleRule
}

// Expectation is what the IdPs together say about one person.
type Expectation struct {
	Role string // highest implied role, "" when no rule applies
	Why  string
}

// Analyze evaluates one run in a single walk over the people: the
// findings, sorted by severity, kind, team and e-mail; and for every person
// of the graph, in order, the role their active assignments imply and why
// (the auditor's "expected role" column, also for people without
// findings).
func Analyze(in Input) ([]Finding, []Expectation) {
	e := evaluator{in: in, idps: idpNames(in.Sources), appSources: appNames(in.Sources), app: appOf(in.Sources),
		exps: make([]Expectation, len(in.Graph.People))}
	for p := range in.Graph.People {
		e.person(int32(p))
	}
	for _, c := range in.Graph.Conflicts {
		e.conflict(c)
	}
	e.openAccess()
	Sort(e.out)
	return e.out, e.exps
}

// Evaluate returns the findings of Analyze.
func Evaluate(in Input) []Finding {
	fs, _ := Analyze(in)
	return fs
}

// Sort orders findings by severity (highest first), kind, team, e-mail and
// key, which is the order of every report and export.
func Sort(fs []Finding) {
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(SeverityRank(b.Severity), SeverityRank(a.Severity)),
			cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Team, b.Team),
			cmp.Compare(a.Email, b.Email),
			cmp.Compare(a.Key, b.Key),
		)
	})
}

func appNames(src map[string]Source) []string {
	var out []string
	for n, s := range src {
		if s.Kind == collectors.KindApp {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func idpNames(src map[string]Source) []string {
	var out []string
	for n, s := range src {
		if s.Kind == collectors.KindIdP {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

type evaluator struct {
	in         Input
	idps       []string
	appSources []string
	app        string
	out        []Finding
	exps       []Expectation // per person
}

func (e *evaluator) add(f Finding) {
	f.State = StateOpen
	for _, s := range f.DependsOn {
		if src, ok := e.in.Sources[s]; !ok || !src.Complete {
			f.State = StateUnknown
		}
	}
	sum := sha256.Sum256([]byte(f.Key))
	f.ID = hex.EncodeToString(sum[:8])
	e.out = append(e.out, f)
}

func (e *evaluator) person(p int32) {
	g := e.in.Graph
	per := &g.People[p]
	var idp, app []*collectors.Account
	var appIdx []int32
	for _, i := range per.Accounts {
		a := &g.Accounts[i]
		if e.in.Sources[a.Source].Kind == collectors.KindIdP {
			idp = append(idp, a)
		} else {
			app = append(app, a)
			appIdx = append(appIdx, i)
		}
	}
	exp := e.expect(idp)
	e.exps[p] = exp
	var active, inactive, staged, assigned, closed []*collectors.Account
	for _, a := range idp {
		switch a.Status {
		case collectors.StatusActive:
			active = append(active, a)
			if a.Assigned {
				assigned = append(assigned, a)
			}
			if !e.in.Sources[a.Source].OpenAccess {
				closed = append(closed, a) // an IdP whose silence means "not assigned"
			}
		case collectors.StatusInactive:
			inactive = append(inactive, a)
		default:
			staged = append(staged, a)
		}
	}
	// Evidence is rendered only for people who have a finding.
	var idpEvidence []Evidence
	evidence := func() []Evidence {
		if idpEvidence == nil {
			idpEvidence = make([]Evidence, 0, len(idp))
			for _, a := range idp {
				idpEvidence = append(idpEvidence, idpFact(a))
			}
		}
		return idpEvidence
	}
	allIdPs := e.idps

	// Judgements about each app account the person holds.
	members := map[string][]*collectors.Account{} // source/team -> members
	for n, a := range app {
		if a.Status != collectors.StatusActive {
			continue
		}
		members[a.Source+"\x00"+a.Team] = append(members[a.Source+"\x00"+a.Team], a)
		if g.Unresolved[appIdx[n]] {
			continue // reported as a conflict; judging it would guess
		}
		appName := e.in.Sources[a.Source].App
		role := config.CanonicalRole(a.Role)
		base := Finding{
			App: appName, Team: a.Team, TeamName: a.TeamName, Email: g.Normalized[appIdx[n]],
			DisplayName: a.DisplayName, Person: per.ID, Account: a.Key(), ActualRole: role,
			ExpectedRole: exp.Role, ExpectedWhy: exp.Why,
			DependsOn: append([]string{a.Source}, allIdPs...),
		}
		base.Evidence = []Evidence{appFact(a, g.Links[appIdx[n]].Reason)}
		withIdP := func(f Finding) Finding {
			f.Evidence = append(f.Evidence, evidence()...)
			return f
		}
		where := fmt.Sprintf("still %s %s in %s", appTitle(appName), roleOr(role), teamLabel(a))
		privileged := config.RoleRank(role) >= config.RoleRank(config.RoleAdmin)
		switch {
		case len(idp) == 0:
			f := base
			f.Kind, f.Reason = KindOrphaned, "unknown"
			f.Severity = pick(privileged, SevHigh, SevMedium)
			f.Explanation = fmt.Sprintf("no identity provider knows %s; %s", f.Email, where)
			f.Key = key(f.Kind, appName, a.Key())
			e.add(withIdP(f))
		case len(active) == 0 && len(inactive) > 0:
			f := base
			f.Kind, f.Reason = KindOrphaned, "deprovisioned"
			f.Severity = pick(privileged, SevCritical, SevHigh)
			f.Explanation = fmt.Sprintf("%s, %s", leftPhrase(inactive), where)
			f.Key = key(f.Kind, appName, a.Key())
			e.add(withIdP(f))
		case len(active) == 0:
			f := base
			f.Kind, f.Reason = KindOrphaned, "not_yet_active"
			f.Severity = pick(privileged, SevHigh, SevMedium)
			f.Explanation = fmt.Sprintf("not yet active in %s (%s), %s", staged[0].Source, staged[0].RawStatus, where)
			f.Key = key(f.Kind, appName, a.Key())
			e.add(withIdP(f))
		case len(assigned) == 0 && len(closed) == 0:
			// Only open-access IdPs know the person: signing in without an
			// assignment is what they allow. The open_access finding says so.
		case len(assigned) == 0:
			f := base
			f.Kind, f.Reason = KindUnassigned, "not_assigned"
			f.Severity = pick(privileged, SevHigh, SevMedium)
			f.Explanation = fmt.Sprintf("active in %s but not assigned %s there; %s %s in %s",
				sourceList(closed), appTitle(appName), appTitle(appName), roleOr(role), teamLabel(a))
			f.Key = key(f.Kind, appName, a.Key())
			e.add(withIdP(f))
		default:
			e.roleMismatch(withIdP(base), a, role, exp)
		}
	}

	for _, ms := range members {
		if len(ms) < 2 {
			continue
		}
		a := ms[0]
		appName := e.in.Sources[a.Source].App
		var ev []Evidence
		var emails []string
		for _, m := range ms {
			ev = append(ev, appFact(m, ""))
			emails = append(emails, m.Email)
		}
		slices.Sort(emails)
		e.add(Finding{
			Kind: KindDuplicate, Reason: "same_team", Severity: SevMedium,
			App: appName, Team: a.Team, TeamName: a.TeamName, Email: per.Email, DisplayName: per.DisplayName,
			Person: per.ID, ActualRole: highestRole(ms), ExpectedRole: exp.Role, ExpectedWhy: exp.Why,
			Explanation: fmt.Sprintf("%d %s accounts in %s for one person: %s", len(ms), appTitle(appName), teamLabel(a), strings.Join(emails, ", ")),
			// The accounts are one person through the IdPs' addresses too.
			Evidence: ev, DependsOn: append([]string{a.Source}, sourcesOf(idp)...),
			Key: key(KindDuplicate, appName, per.ID+"/"+a.Team),
		})
	}

	if len(assigned) > 0 {
		e.missing(per, assigned, app, exp)
	}
	e.idpConflict(per, idp, exp, evidence)
}

func (e *evaluator) roleMismatch(base Finding, a *collectors.Account, role string, exp Expectation) {
	appName := base.App
	f := base
	f.Kind = KindRoleMismatch
	f.Key = key(f.Kind, appName, a.Key())
	switch {
	case config.RoleRank(role) == 0:
		f.Reason, f.Severity = "unrecognised_role", SevMedium
		f.Explanation = fmt.Sprintf("%s shows the role %q in %s, which idgraph does not know; expected %s", appTitle(appName), a.Role, teamLabel(a), roleOr(exp.Role))
	case exp.Role == "":
		return // no mapping says what the role should be
	case config.RoleRank(role) > config.RoleRank(exp.Role):
		f.Reason = "excess"
		f.Severity = pick(role == config.RoleOwner, SevHigh, SevMedium)
		f.Explanation = fmt.Sprintf("%s %s in %s, but the IdPs imply %s (%s)", appTitle(appName), role, teamLabel(a), exp.Role, exp.Why)
	case config.RoleRank(role) < config.RoleRank(exp.Role):
		f.Reason, f.Severity = "shortfall", SevLow
		f.Explanation = fmt.Sprintf("%s %s in %s, but the IdPs imply %s (%s)", appTitle(appName), role, teamLabel(a), exp.Role, exp.Why)
	default:
		return
	}
	e.add(f)
}

func (e *evaluator) missing(per *graph.Person, assigned []*collectors.Account, app []*collectors.Account, exp Expectation) {
	// The person should have an account in every app source. "Has none"
	// is a claim about every link of the graph: an app account may belong
	// to the person only through an address that one IdP knows (an Okta
	// secondEmail, an Entra employee ID), so the finding depends on every
	// IdP, not only on the one that assigned the app.
	deps := e.idps
	var ev []Evidence
	for _, name := range e.appSources {
		src := e.in.Sources[name]
		if src.Kind != collectors.KindApp {
			continue
		}
		var member, invite *collectors.Account
		for _, a := range app {
			if a.Source != name {
				continue
			}
			switch a.Status {
			case collectors.StatusActive:
				member = a
			case collectors.StatusInvited:
				invite = a
			}
		}
		if member != nil {
			continue
		}
		if ev == nil {
			for _, a := range assigned {
				ev = append(ev, idpFact(a))
			}
		}
		f := Finding{
			Kind: KindMissing, Reason: "no_account", Severity: SevLow, App: src.App,
			Email: per.Email, DisplayName: per.DisplayName, Person: per.ID,
			ExpectedRole: exp.Role, ExpectedWhy: exp.Why, Evidence: ev,
			DependsOn: append([]string{name}, deps...),
			Key:       key(KindMissing, src.App, per.ID),
			Explanation: fmt.Sprintf("assigned %s in %s (%s), but has no %s account", appTitle(src.App),
				assigned[0].Source, strings.Join(assigned[0].AssignedVia, "; "), appTitle(src.App)),
		}
		if invite != nil {
			f.Reason, f.Severity = "pending_invitation", SevInfo
			f.Team, f.TeamName = invite.Team, invite.TeamName
			f.Account = invite.Key()
			f.Evidence = append([]Evidence{appFact(invite, "")}, ev...)
			f.Explanation += fmt.Sprintf("; an invitation is pending in %s", teamLabel(invite))
		}
		e.add(f)
	}
}

func (e *evaluator) idpConflict(per *graph.Person, idp []*collectors.Account, exp Expectation, evidence func() []Evidence) {
	if len(idp) < 2 {
		return
	}
	var act, inact []*collectors.Account
	roles := map[string]string{} // source -> role its active assignment implies
	roleDiffers := false
	for _, a := range idp {
		switch a.Status {
		case collectors.StatusActive:
			act = append(act, a)
			if !a.Assigned {
				continue
			}
			if r, _ := e.implied(a); r != "" {
				for _, other := range roles {
					roleDiffers = roleDiffers || other != r
				}
				roles[a.Source] = r
			}
		case collectors.StatusInactive:
			inact = append(inact, a)
		}
	}
	statusDiffers := len(act) > 0 && len(inact) > 0
	if !statusDiffers && !roleDiffers {
		return // most people: the IdPs agree
	}
	deps := make([]string, 0, len(idp))
	for _, a := range idp {
		deps = append(deps, a.Source)
	}
	slices.Sort(deps)
	deps = slices.Compact(deps)
	base := Finding{Kind: KindIdPConflict, Email: per.Email, DisplayName: per.DisplayName, Person: per.ID,
		Evidence: evidence(), DependsOn: deps, App: e.app}
	if statusDiffers {
		f := base
		f.Reason, f.Severity = "status", SevMedium
		f.Explanation = fmt.Sprintf("active in %s, %s in %s", sourceList(act), inact[0].RawStatus, sourceList(inact))
		f.Key = key(f.Kind, f.App, per.ID+"/status")
		e.add(f)
	}
	if roleDiffers {
		var parts []string
		for _, s := range sortedKeys(roles) {
			parts = append(parts, s+" implies "+roles[s])
		}
		f := base
		f.Reason, f.Severity = "role", SevLow
		f.ExpectedRole, f.ExpectedWhy = exp.Role, exp.Why
		f.Explanation = strings.Join(parts, ", ") + "; judged against the highest"
		f.Key = key(f.Kind, f.App, per.ID+"/role")
		e.add(f)
	}
}

func (e *evaluator) conflict(c graph.Conflict) {
	// The address alone is not unique: an address two IdP users claim
	// also leaves the app account that carries it unlinked.
	subject := c.Address + "/" + c.Accounts[0]
	deps := map[string]bool{}
	for _, k := range c.Accounts {
		deps[strings.SplitN(k, ":", 2)[0]] = true
	}
	var ev []Evidence
	for _, k := range c.Accounts {
		ev = append(ev, Evidence{Source: strings.SplitN(k, ":", 2)[0], Account: k, Detail: "claims " + c.Address})
	}
	e.add(Finding{
		Kind: KindConflict, Reason: "correlation", Severity: SevMedium, App: e.app,
		Email: c.Address, Explanation: fmt.Sprintf("%s: %s", c.Reason, strings.Join(c.Accounts, ", ")),
		Evidence: ev, DependsOn: sortedKeys(deps), Key: key(KindConflict, e.app, subject),
	})
}

// openAccess reports, once per IdP and application, an IdP that lets
// every user sign in to the application without an assignment.
func (e *evaluator) openAccess() {
	for _, name := range e.idps {
		src := e.in.Sources[name]
		if !src.OpenAccess {
			continue
		}
		detail := src.OpenDetail
		if detail == "" {
			detail = name + " does not require an assignment for " + appTitle(e.app)
		}
		e.add(Finding{
			Kind: KindOpenAccess, Reason: "assignment_not_required", Severity: SevHigh, App: e.app,
			Explanation: fmt.Sprintf("%s: every enabled %s user can sign in to %s without an assignment, so %s cannot say who should not have it; require assignment on the application",
				detail, name, appTitle(e.app), name),
			Evidence:  []Evidence{{Source: name, Account: name, Detail: detail}},
			DependsOn: []string{name},
			Key:       key(KindOpenAccess, e.app, name),
		})
	}
}

// sourcesOf lists the distinct sources of accounts, in order.
func sourcesOf(as []*collectors.Account) []string {
	var s []string
	for _, a := range as {
		s = append(s, a.Source)
	}
	slices.Sort(s)
	return slices.Compact(s)
}

// appOf is the application the app sources read (findings about IdP
// facts alone name it too).
func appOf(src map[string]Source) string {
	for _, n := range sortedKeys(src) {
		if s := src[n]; s.Kind == collectors.KindApp && s.App != "" {
			return s.App
		}
	}
	return ""
}

// expect derives the highest role the person's active assignments imply.
func (e *evaluator) expect(idp []*collectors.Account) Expectation {
	var best Expectation
	for _, a := range idp {
		if a.Status != collectors.StatusActive || !a.Assigned {
			continue
		}
		r, why := e.implied(a)
		if config.RoleRank(r) > config.RoleRank(best.Role) {
			best = Expectation{Role: r, Why: why}
		}
	}
	return best
}

// implied is the role one assigned IdP account implies under the mapping.
func (e *evaluator) implied(a *collectors.Account) (string, string) {
	role, why, def := "", "", ""
	for _, r := range e.in.Roles {
		var ok bool
		var w string
		switch {
		case r.Default != "":
			def = config.CanonicalRole(r.Default)
			continue
		case r.OktaGroup != "":
			ok, w = a.Source == "okta" && hasFold(a.Groups, r.OktaGroup), "okta group "+r.OktaGroup
		case r.OktaAppRole != "":
			ok, w = a.Source == "okta" && hasFold(a.AppRoles, r.OktaAppRole), "okta app role "+r.OktaAppRole
		case r.EntraAppRole != "":
			ok, w = a.Source == "entra" && hasFold(a.AppRoles, r.EntraAppRole), "entra app role "+r.EntraAppRole
		case r.EntraGroup != "":
			ok, w = a.Source == "entra" && hasFold(a.Groups, r.EntraGroup), "entra group "+r.EntraGroup
		case r.Group != "":
			ok, w = a.Source == r.Source && hasFold(a.Groups, r.Group), r.Source+" group "+r.Group
		case r.AppRole != "":
			ok, w = a.Source == r.Source && hasFold(a.AppRoles, r.AppRole), r.Source+" app role "+r.AppRole
		}
		if ok && config.RoleRank(r.Role) > config.RoleRank(role) {
			role, why = config.CanonicalRole(r.Role), w
		}
	}
	if role == "" && def != "" {
		role, why = def, a.Source+" assignment, default role"
	}
	return role, why
}

func hasFold(list []string, v string) bool {
	for _, s := range list {
		if strings.EqualFold(strings.TrimSpace(s), strings.TrimSpace(v)) {
			return true
		}
	}
	return false
}

func key(kind, app, subject string) string { return kind + "/" + app + "/" + subject }

func pick(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

func roleOr(r string) string {
	if r == "" {
		return "(no role mapped)"
	}
	return r
}

func appTitle(app string) string {
	if app == "" {
		return "the app"
	}
	return strings.ToUpper(app[:1]) + app[1:]
}

func teamLabel(a *collectors.Account) string {
	if a.TeamName != "" {
		return a.TeamName
	}
	if a.Team != "" {
		return "team " + a.Team
	}
	return "the app"
}

func sourceList(as []*collectors.Account) string {
	return strings.Join(sourcesOf(as), " and ")
}

// leftPhrase says how the person left, citing the IdP that dates it.
func leftPhrase(inactive []*collectors.Account) string {
	a := inactive[0]
	for _, x := range inactive {
		if !x.StatusChanged.IsZero() && (a.StatusChanged.IsZero() || x.StatusChanged.Before(a.StatusChanged)) {
			a = x
		}
	}
	others := ""
	for _, x := range inactive {
		if x != a {
			raw := x.RawStatus
			if raw == "" {
				raw = string(x.Status)
			}
			others += fmt.Sprintf(" and %s in %s", raw, x.Source)
		}
	}
	return leftOne(a) + others
}

func leftOne(a *collectors.Account) string {
	raw := a.RawStatus
	if raw == "" {
		raw = string(a.Status)
	}
	if !a.StatusChanged.IsZero() {
		return fmt.Sprintf("left %s on %s (%s)", a.Source, a.StatusChanged.UTC().Format("2006-01-02"), raw)
	}
	return fmt.Sprintf("%s in %s", raw, a.Source)
}

func highestRole(as []*collectors.Account) string {
	best := ""
	for _, a := range as {
		r := config.CanonicalRole(a.Role)
		if best == "" || config.RoleRank(r) > config.RoleRank(best) {
			best = r
		}
	}
	return best
}

func idpFact(a *collectors.Account) Evidence {
	d := a.RawStatus
	if d == "" {
		d = string(a.Status)
	}
	if a.Guest {
		d += ", guest"
	}
	switch {
	case a.Assigned:
		d += "; assigned: " + strings.Join(a.AssignedVia, "; ")
	case len(a.AssignedVia) > 0: // an assignment not in force, e.g. an INACTIVE Okta app user
		d += "; not assigned (" + strings.Join(a.AssignedVia, "; ") + ")"
	default:
		d += "; not assigned"
	}
	if len(a.Groups) > 0 {
		d += "; groups: " + strings.Join(a.Groups, ", ")
	}
	if len(a.NestedGroups) > 0 {
		d += "; through nesting only (grants nothing): " + strings.Join(a.NestedGroups, ", ")
	}
	return Evidence{Source: a.Source, Account: a.Key(), Email: a.Email, Status: string(a.Status), Detail: d}
}

func appFact(a *collectors.Account, link string) Evidence {
	d := fmt.Sprintf("%s in %s", roleOr(a.Role), teamLabel(a))
	if a.Status == collectors.StatusInvited {
		d = "invitation pending in " + teamLabel(a)
	}
	if link != "" {
		d += "; linked by " + link
	}
	return Evidence{Source: a.Source, Account: a.Key(), Email: a.Email, Status: string(a.Status), Detail: d}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
