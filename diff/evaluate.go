package diff

// The evaluation of one person: each kind of finding, with its evidence
// and the sources it depends on.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/graph"
)

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
			if a.AssignedTo(e.app) {
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
				idpEvidence = append(idpEvidence, idpFact(a, e.app))
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
				ev = append(ev, idpFact(a, e.app))
			}
		}
		f := Finding{
			Kind: KindMissing, Reason: "no_account", Severity: SevLow, App: src.App,
			Email: per.Email, DisplayName: per.DisplayName, Person: per.ID,
			ExpectedRole: exp.Role, ExpectedWhy: exp.Why, Evidence: ev,
			DependsOn: append([]string{name}, deps...),
			Key:       key(KindMissing, src.App, per.ID),
			Explanation: fmt.Sprintf("assigned %s in %s (%s), but has no %s account", appTitle(src.App),
				assigned[0].Source, strings.Join(assigned[0].Assignment(e.app).Via, "; "), appTitle(src.App)),
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
			if !a.AssignedTo(e.app) {
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
