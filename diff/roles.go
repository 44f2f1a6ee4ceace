package diff

// The role that a person's assignments imply in one application under its
// rules.

import (
	"strings"

	"github.com/idgraph/idgraph/collectors"
)

// expect derives the highest role the person's active assignments of app
// imply.
func (e *evaluator) expect(idp []*collectors.Account, app *App) Expectation {
	best := Expectation{App: app.Name}
	for _, a := range idp {
		if a.Status != collectors.StatusActive || !a.AssignedTo(app.Name) {
			continue
		}
		r, why := implied(a, app)
		if r != "" && (best.Role == "" || app.Rank(r) > app.Rank(best.Role)) {
			best.Role, best.Why = r, why
		}
	}
	return best
}

// implied is the role one assigned IdP account implies in app.
func implied(a *collectors.Account, app *App) (string, string) {
	as := a.Assignment(app.Name)
	if as == nil || !as.InForce {
		return "", ""
	}
	role, why, def := "", "", ""
	for i := range app.Rules {
		r := &app.Rules[i]
		if r.Default {
			if r.reads(a.Source) {
				def = app.Canonical(r.Role)
			}
			continue
		}
		if r.matches(a, as) && (role == "" || app.Rank(r.Role) > app.Rank(role)) {
			role, why = app.Canonical(r.Role), r.Why
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
