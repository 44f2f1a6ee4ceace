package diff

// The role that a person's assignments imply under the configured rules.

import (
	"strings"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
)

// expect derives the highest role the person's active assignments imply.
func (e *evaluator) expect(idp []*collectors.Account) Expectation {
	var best Expectation
	for _, a := range idp {
		if a.Status != collectors.StatusActive || !a.AssignedTo(e.app) {
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
	var roles []string
	if as := a.Assignment(e.app); as != nil {
		roles = as.Roles
	}
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
			ok, w = a.Source == "okta" && hasFold(roles, r.OktaAppRole), "okta app role "+r.OktaAppRole
		case r.EntraAppRole != "":
			ok, w = a.Source == "entra" && hasFold(roles, r.EntraAppRole), "entra app role "+r.EntraAppRole
		case r.EntraGroup != "":
			ok, w = a.Source == "entra" && hasFold(a.Groups, r.EntraGroup), "entra group "+r.EntraGroup
		case r.Group != "":
			ok, w = a.Source == r.Source && hasFold(a.Groups, r.Group), r.Source+" group "+r.Group
		case r.AppRole != "":
			ok, w = a.Source == r.Source && hasFold(roles, r.AppRole), r.Source+" app role "+r.AppRole
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
