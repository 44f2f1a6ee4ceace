package diff

// The evaluation of one person, per application: each kind of finding,
// with its evidence and the sources it depends on.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/graph"
)

type evaluator struct {
	in   Input
	idps []string
	// apps are the applications that an app source reads, by name; first
	// is the one that findings about no application in particular are
	// filed under (an IdP disagreement about a person no app knows, a
	// refused correlation of IdP accounts alone), so that the keys of a
	// single-application store stay what they were.
	apps       []*App
	appSources map[string][]string // app -> its sources, in order
	out        []Finding
	exps       [][]Expectation // per person, per app
}

func newEvaluator(in Input) *evaluator {
	e := &evaluator{in: in, idps: idpNames(in.Sources), appSources: map[string][]string{},
		exps: make([][]Expectation, len(in.Graph.People))}
	for _, name := range appNames(in.Sources) {
		app := in.Sources[name].App
		if _, seen := e.appSources[app]; !seen {
			a, ok := in.Apps[app]
			if !ok {
				a = App{Name: app}
			}
			a.Name = app
			e.apps = append(e.apps, &a)
		}
		e.appSources[app] = append(e.appSources[app], name)
	}
	slices.SortFunc(e.apps, func(a, b *App) int { return strings.Compare(a.Name, b.Name) })
	return e
}

func (e *evaluator) app(name string) *App {
	for _, a := range e.apps {
		if a.Name == name {
			return a
		}
	}
	return &App{Name: name}
}

// firstApp is the application findings about no application are filed
// under; "" when no app source is configured.
func (e *evaluator) firstApp() string {
	if len(e.apps) == 0 {
		return ""
	}
	return e.apps[0].Name
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

// appAccount is an app account with its index in the graph.
type appAccount struct {
	a   *collectors.Account
	idx int32
}

func (e *evaluator) person(p int32) {
	g := e.in.Graph
	per := &g.People[p]
	var idp []*collectors.Account
	byApp := map[string][]appAccount{}
	for _, i := range per.Accounts {
		a := &g.Accounts[i]
		src := e.in.Sources[a.Source]
		if src.Kind == collectors.KindIdP {
			idp = append(idp, a)
		} else {
			byApp[src.App] = append(byApp[src.App], appAccount{a, i})
		}
	}
	// Evidence is rendered only for people who have a finding.
	var related []string
	for _, app := range e.apps {
		exp := e.expect(idp, app)
		if exp.Role != "" {
			e.exps[p] = append(e.exps[p], exp)
		}
		if e.personApp(per, app, idp, byApp[app.Name], exp) {
			related = append(related, app.Name)
		}
	}
	e.idpConflict(per, idp, related)
}

// personApp judges one person in one application and reports whether the
// person relates to it (holds an account there or is assigned it).
func (e *evaluator) personApp(per *graph.Person, app *App, idp []*collectors.Account, accounts []appAccount, exp Expectation) bool {
	g := e.in.Graph
	var active, inactive, staged, assigned, closed []*collectors.Account
	for _, a := range idp {
		switch a.Status {
		case collectors.StatusActive:
			active = append(active, a)
			if a.AssignedTo(app.Name) {
				assigned = append(assigned, a)
			}
			if _, open := e.in.Sources[a.Source].Open[app.Name]; !open {
				closed = append(closed, a) // an IdP whose silence means "not assigned"
			}
		case collectors.StatusInactive:
			inactive = append(inactive, a)
		default:
			staged = append(staged, a)
		}
	}
	var idpEvidence []Evidence
	evidence := func() []Evidence {
		if idpEvidence == nil {
			idpEvidence = make([]Evidence, 0, len(idp))
			for _, a := range idp {
				idpEvidence = append(idpEvidence, idpFact(a, app.Name))
			}
		}
		return idpEvidence
	}
	title := app.TitleOf()

	// Judgements about each account the person holds in the application.
	members := map[string][]*collectors.Account{} // source/team -> members
	for _, aa := range accounts {
		a := aa.a
		if a.Status != collectors.StatusActive {
			continue
		}
		members[a.Source+"\x00"+a.Team] = append(members[a.Source+"\x00"+a.Team], a)
		if g.Unresolved[aa.idx] {
			continue // reported as a conflict; judging it would guess
		}
		role := app.Canonical(a.Role)
		base := Finding{
			App: app.Name, Team: a.Team, TeamName: a.TeamName, Email: g.Normalized[aa.idx],
			DisplayName: a.DisplayName, Person: per.ID, Account: a.Key(), ActualRole: role,
			ExpectedRole: exp.Role, ExpectedWhy: exp.Why,
			DependsOn: append([]string{a.Source}, e.idps...),
		}
		base.Evidence = []Evidence{appFact(a, g.Links[aa.idx].Reason)}
		withIdP := func(f Finding) Finding {
			f.Evidence = append(f.Evidence, evidence()...)
			return f
		}
		where := fmt.Sprintf("still %s %s%s", title, roleOr(role), inTeam(a))
		privileged := app.Privileged(role)
		switch {
		case len(idp) == 0:
			f := base
			f.Kind, f.Reason = KindOrphaned, "unknown"
			f.Severity = pick(privileged, SevHigh, SevMedium)
			f.Explanation = fmt.Sprintf("no identity provider knows %s; %s", f.Email, where)
			f.Key = key(f.Kind, app.Name, a.Key())
			e.add(withIdP(f))
		case len(active) == 0 && len(inactive) > 0:
			f := base
			f.Kind, f.Reason = KindOrphaned, "deprovisioned"
			f.Severity = pick(privileged, SevCritical, SevHigh)
			f.Explanation = fmt.Sprintf("%s, %s", leftPhrase(inactive), where)
			f.Key = key(f.Kind, app.Name, a.Key())
			e.add(withIdP(f))
		case len(active) == 0:
			f := base
			f.Kind, f.Reason = KindOrphaned, "not_yet_active"
			f.Severity = pick(privileged, SevHigh, SevMedium)
			f.Explanation = fmt.Sprintf("not yet active in %s (%s), %s", staged[0].Source, staged[0].RawStatus, where)
			f.Key = key(f.Kind, app.Name, a.Key())
			e.add(withIdP(f))
		case len(assigned) == 0 && len(closed) == 0:
			// Only open-access IdPs know the person: signing in without an
			// assignment is what they allow. The open_access finding says so.
		case len(assigned) == 0:
			f := base
			f.Kind, f.Reason = KindUnassigned, "not_assigned"
			f.Severity = pick(privileged, SevHigh, SevMedium)
			f.Explanation = fmt.Sprintf("active in %s but not assigned %s there; %s %s%s",
				sourceList(closed), title, title, roleOr(role), inTeam(a))
			f.Key = key(f.Kind, app.Name, a.Key())
			e.add(withIdP(f))
		default:
			e.roleMismatch(withIdP(base), app, a, role, exp)
		}
	}

	for _, k := range sortedKeys(members) {
		ms := members[k]
		if len(ms) < 2 {
			continue
		}
		a := ms[0]
		var ev []Evidence
		var emails []string
		for _, m := range ms {
			ev = append(ev, appFact(m, ""))
			emails = append(emails, m.Email)
		}
		slices.Sort(emails)
		e.add(Finding{
			Kind: KindDuplicate, Reason: "same_team", Severity: SevMedium,
			App: app.Name, Team: a.Team, TeamName: a.TeamName, Email: per.Email, DisplayName: per.DisplayName,
			Person: per.ID, ActualRole: highestRole(app, ms), ExpectedRole: exp.Role, ExpectedWhy: exp.Why,
			Explanation: fmt.Sprintf("%d %s accounts%s for one person: %s", len(ms), title, inTeam(a), strings.Join(emails, ", ")),
			// The accounts are one person through the IdPs' addresses too.
			Evidence: ev, DependsOn: append([]string{a.Source}, sourcesOf(idp)...),
			Key: key(KindDuplicate, app.Name, per.ID+"/"+a.Team),
		})
	}

	if len(assigned) > 0 {
		e.missing(per, app, assigned, accounts, exp)
	}
	e.roleConflict(per, app, idp, exp, evidence)
	return len(accounts) > 0 || len(assigned) > 0
}

func (e *evaluator) roleMismatch(base Finding, app *App, a *collectors.Account, role string, exp Expectation) {
	f := base
	f.Kind = KindRoleMismatch
	f.Key = key(f.Kind, app.Name, a.Key())
	title := app.TitleOf()
	switch {
	case app.Rank(role) == 0:
		f.Reason, f.Severity = "unrecognised_role", SevMedium
		f.Explanation = fmt.Sprintf("%s shows the role %q%s, which is not one of %s's roles (%s); expected %s",
			title, a.Role, inTeam(a), title, strings.Join(app.Ladder, ", "), roleOr(exp.Role))
		if len(app.Ladder) == 0 {
			f.Explanation = fmt.Sprintf("%s shows the role %q%s, which idgraph does not know; expected %s", title, a.Role, inTeam(a), roleOr(exp.Role))
		}
	case exp.Role == "":
		return // no mapping says what the role should be
	case app.Rank(role) > app.Rank(exp.Role):
		f.Reason = "excess"
		f.Severity = pick(app.Top(role), SevHigh, SevMedium)
		f.Explanation = fmt.Sprintf("%s %s%s, but the IdPs imply %s (%s)", title, role, inTeam(a), exp.Role, exp.Why)
	case app.Rank(role) < app.Rank(exp.Role):
		f.Reason, f.Severity = "shortfall", SevLow
		f.Explanation = fmt.Sprintf("%s %s%s, but the IdPs imply %s (%s)", title, role, inTeam(a), exp.Role, exp.Why)
	default:
		return
	}
	e.add(f)
}

func (e *evaluator) missing(per *graph.Person, app *App, assigned []*collectors.Account, accounts []appAccount, exp Expectation) {
	// The person should have an account in every source of the app. "Has
	// none" is a claim about every link of the graph: an app account may
	// belong to the person only through an address that one IdP knows (an
	// Okta secondEmail, an Entra employee ID), so the finding depends on
	// every IdP, not only on the one that assigned the app.
	title := app.TitleOf()
	var ev []Evidence
	for _, name := range e.appSources[app.Name] {
		var member, invite *collectors.Account
		for _, aa := range accounts {
			if aa.a.Source != name {
				continue
			}
			switch aa.a.Status {
			case collectors.StatusActive:
				member = aa.a
			case collectors.StatusInvited:
				invite = aa.a
			}
		}
		if member != nil {
			continue
		}
		if ev == nil {
			for _, a := range assigned {
				ev = append(ev, idpFact(a, app.Name))
			}
		}
		f := Finding{
			Kind: KindMissing, Reason: "no_account", Severity: SevLow, App: app.Name,
			Email: per.Email, DisplayName: per.DisplayName, Person: per.ID,
			ExpectedRole: exp.Role, ExpectedWhy: exp.Why, Evidence: ev,
			DependsOn: append([]string{name}, e.idps...),
			Key:       key(KindMissing, app.Name, per.ID),
			Explanation: fmt.Sprintf("assigned %s in %s (%s), but has no %s account", title,
				assigned[0].Source, strings.Join(assigned[0].Assignment(app.Name).Via, "; "), title),
		}
		if len(e.appSources[app.Name]) > 1 {
			// Two sources of one application (a browser read and an export)
			// are two places an account can be missing from.
			f.Key = key(KindMissing, app.Name, per.ID+"/"+name)
		}
		if invite != nil {
			f.Reason, f.Severity = "pending_invitation", SevInfo
			f.Team, f.TeamName = invite.Team, invite.TeamName
			f.Account = invite.Key()
			f.Evidence = append([]Evidence{appFact(invite, "")}, ev...)
			f.Explanation += fmt.Sprintf("; an invitation is pending%s", inTeam(invite))
		}
		e.add(f)
	}
}

// idpConflict reports IdPs that disagree about whether a person is active,
// once per application the person relates to (or, for a person no
// application knows, under the first).
func (e *evaluator) idpConflict(per *graph.Person, idp []*collectors.Account, related []string) {
	if len(idp) < 2 {
		return
	}
	var act, inact []*collectors.Account
	for _, a := range idp {
		switch a.Status {
		case collectors.StatusActive:
			act = append(act, a)
		case collectors.StatusInactive:
			inact = append(inact, a)
		}
	}
	if len(act) == 0 || len(inact) == 0 {
		return // most people: the IdPs agree
	}
	if len(related) == 0 {
		related = []string{e.firstApp()}
	}
	for _, name := range related {
		ev := make([]Evidence, 0, len(idp))
		for _, a := range idp {
			ev = append(ev, idpFact(a, name))
		}
		e.add(Finding{Kind: KindIdPConflict, Reason: "status", Severity: SevMedium,
			Email: per.Email, DisplayName: per.DisplayName, Person: per.ID, App: name,
			Explanation: fmt.Sprintf("active in %s, %s in %s", sourceList(act), inact[0].RawStatus, sourceList(inact)),
			Evidence:    ev, DependsOn: sourcesOf(idp), Key: key(KindIdPConflict, name, per.ID+"/status")})
	}
}

// roleConflict reports IdPs whose assignments of one application imply
// different roles; role_mismatch is judged against the highest.
func (e *evaluator) roleConflict(per *graph.Person, app *App, idp []*collectors.Account, exp Expectation, evidence func() []Evidence) {
	if len(idp) < 2 {
		return
	}
	roles := map[string]string{} // source -> role its active assignment implies
	differs := false
	for _, a := range idp {
		if a.Status != collectors.StatusActive {
			continue
		}
		if r, _ := implied(a, app); r != "" {
			for _, other := range roles {
				differs = differs || other != r
			}
			roles[a.Source] = r
		}
	}
	if !differs {
		return
	}
	var parts []string
	for _, s := range sortedKeys(roles) {
		parts = append(parts, s+" implies "+roles[s])
	}
	e.add(Finding{Kind: KindIdPConflict, Reason: "role", Severity: SevLow,
		Email: per.Email, DisplayName: per.DisplayName, Person: per.ID, App: app.Name,
		ExpectedRole: exp.Role, ExpectedWhy: exp.Why,
		Explanation: strings.Join(parts, ", ") + "; judged against the highest",
		Evidence:    evidence(), DependsOn: sourcesOf(idp), Key: key(KindIdPConflict, app.Name, per.ID+"/role")})
}

func (e *evaluator) conflict(c graph.Conflict) {
	// The address alone is not unique: an address two IdP users claim
	// also leaves the app account that carries it unlinked.
	subject := c.Address + "/" + c.Accounts[0]
	deps := map[string]bool{}
	app := ""
	for _, k := range c.Accounts {
		src := strings.SplitN(k, ":", 2)[0]
		deps[src] = true
		if s := e.in.Sources[src]; s.Kind == collectors.KindApp && app == "" {
			app = s.App
		}
	}
	if app == "" {
		app = e.firstApp()
	}
	var ev []Evidence
	for _, k := range c.Accounts {
		ev = append(ev, Evidence{Source: strings.SplitN(k, ":", 2)[0], Account: k, Detail: "claims " + c.Address})
	}
	e.add(Finding{
		Kind: KindConflict, Reason: "correlation", Severity: SevMedium, App: app,
		Email: c.Address, Explanation: fmt.Sprintf("%s: %s", c.Reason, strings.Join(c.Accounts, ", ")),
		Evidence: ev, DependsOn: sortedKeys(deps), Key: key(KindConflict, app, subject),
	})
}

// openAccess reports, once per IdP and application, an IdP that lets
// every user sign in to the application without an assignment.
func (e *evaluator) openAccess() {
	for _, name := range e.idps {
		src := e.in.Sources[name]
		for _, app := range sortedKeys(src.Open) {
			title := e.app(app).TitleOf()
			detail := src.Open[app]
			if detail == "" {
				detail = name + " does not require an assignment for " + title
			}
			e.add(Finding{
				Kind: KindOpenAccess, Reason: "assignment_not_required", Severity: SevHigh, App: app,
				Explanation: fmt.Sprintf("%s: every enabled %s user can sign in to %s without an assignment, so %s cannot say who should not have it; require assignment on the application",
					detail, name, title, name),
				Evidence:  []Evidence{{Source: name, Account: name, Detail: detail}},
				DependsOn: []string{name},
				Key:       key(KindOpenAccess, app, name),
			})
		}
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
