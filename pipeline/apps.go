package pipeline

// The applications a run judges, built from what the app sources declare
// (name, title, role ladder) and the configured role rules, resolved at the
// edge so that the findings engine holds no source names.

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/diff"
)

// Apps builds the applications of the configured sources. rules are the
// configuration's role rules by application ("" for the single-application
// list); file names the configuration in errors, which are *config.Error.
func Apps(rules map[string][]config.RoleRule, infos []collectors.Info, file string) (map[string]diff.App, error) {
	bad := func(format string, args ...any) error {
		return &config.Error{Err: fmt.Errorf("%s: "+format, append([]any{file}, args...)...)}
	}
	apps := map[string]diff.App{}
	var names []string
	for _, in := range infos {
		if in.Kind != collectors.KindApp {
			continue
		}
		if in.App == "" {
			return nil, bad("source %s reads no application (its app key is empty)", in.Name)
		}
		a, seen := apps[in.App]
		if !seen {
			names = append(names, in.App)
			a.Name = in.App
		}
		if a.Title == "" {
			a.Title = in.Title
		}
		switch {
		case len(a.Ladder) == 0:
			a.Ladder = in.Roles
		case len(in.Roles) > 0 && !slices.EqualFunc(a.Ladder, in.Roles, strings.EqualFold):
			return nil, bad("two sources of application %s declare different roles (%s and %s)", in.App,
				strings.Join(a.Ladder, " < "), strings.Join(in.Roles, " < "))
		}
		apps[in.App] = a
	}
	slices.Sort(names)
	for _, app := range slices.Sorted(maps.Keys(rules)) {
		target, section := app, "roles."+app
		if app == "" {
			section = "roles"
			switch len(names) {
			case 0:
				continue // IdPs alone: no application to judge
			case 1:
				target = names[0]
			default:
				return nil, bad("roles is one list, but %d applications are configured (%s): write roles as a mapping by application, e.g. roles: {%s: [...], %s: [...]}",
					len(names), strings.Join(names, ", "), names[0], names[1])
			}
		}
		a, ok := apps[target]
		if !ok {
			return nil, bad("%s: no source reads application %q (configured: %s)", section, app, orNone(names))
		}
		for i, r := range rules[app] {
			rule, err := resolveRule(r, infos, a)
			if err != nil {
				return nil, bad("%s[%d]: %v", section, i, err)
			}
			a.Rules = append(a.Rules, rule)
		}
		apps[target] = a
	}
	return apps, nil
}

// resolveRule turns one configured rule into the sources it reads.
func resolveRule(r config.RoleRule, infos []collectors.Info, app diff.App) (diff.RoleRule, error) {
	role := r.Role
	if r.Default != "" {
		role = r.Default
	}
	if len(app.Ladder) > 0 && app.Rank(role) == 0 {
		high := slices.Clone(app.Ladder)
		slices.Reverse(high)
		key := "role"
		if r.Default != "" {
			key = "default"
		}
		return diff.RoleRule{}, fmt.Errorf("%s: %q is not a %s role (%s)", key, role, app.TitleOf(), strings.Join(high, ", "))
	}
	out := diff.RoleRule{Role: app.Canonical(role), Default: r.Default != ""}
	if out.Default {
		return out, nil
	}
	byType := func(typ string) []string {
		var s []string
		for _, in := range infos {
			if in.Kind == collectors.KindIdP && (in.Type == typ || in.Type == "" && in.Name == typ) {
				s = append(s, in.Name)
			}
		}
		return s
	}
	switch {
	case r.OktaGroup != "":
		out.Sources, out.Group, out.Why = byType("okta"), r.OktaGroup, "okta group "+r.OktaGroup
	case r.OktaAppRole != "":
		out.Sources, out.AppRole, out.Why = byType("okta"), r.OktaAppRole, "okta app role "+r.OktaAppRole
	case r.EntraAppRole != "":
		out.Sources, out.AppRole, out.Why = byType("entra"), r.EntraAppRole, "entra app role "+r.EntraAppRole
	case r.EntraGroup != "":
		out.Sources, out.Group, out.Why = byType("entra"), r.EntraGroup, "entra group "+r.EntraGroup
	case r.Group != "":
		out.Sources, out.Group, out.Why = []string{r.Source}, r.Group, r.Source+" group "+r.Group
	case r.AppRole != "":
		out.Sources, out.AppRole, out.Why = []string{r.Source}, r.AppRole, r.Source+" app role "+r.AppRole
	}
	// A rule for an IdP that is not configured reads nothing (Sources is
	// empty): a configuration may keep its okta rules while Okta is off.
	return out, nil
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// resolveSingleApp names the assignments and policies of app "" — read
// through a single-application key such as okta.app_id — after the one
// configured application. With several applications such a key is
// ambiguous: the source is then incomplete rather than guessed.
func resolveSingleApp(results []Collected, apps map[string]diff.App) {
	names := slices.Sorted(maps.Keys(apps))
	for _, c := range results {
		if c.Info.Kind != collectors.KindIdP || c.Result == nil {
			continue
		}
		unnamed := false
		for i := range c.Result.Accounts {
			a := &c.Result.Accounts[i]
			for j := range a.Assignments {
				if a.Assignments[j].App == "" {
					unnamed = true
					if len(names) == 1 {
						a.Assignments[j].App = names[0]
					}
				}
			}
		}
		for i := range c.Result.Policies {
			if c.Result.Policies[i].App == "" {
				unnamed = true
				if len(names) == 1 {
					c.Result.Policies[i].App = names[0]
				}
			}
		}
		if unnamed && len(names) > 1 {
			c.Result.Completeness.Fail(fmt.Errorf("%s: its assignments were read through a single-application key (app_id, service_principal_id), but %d applications are configured (%s): map each application to its id with %s.apps",
				c.Info.Name, len(names), strings.Join(names, ", "), c.Info.Name))
			for i := range c.Result.Accounts {
				c.Result.Accounts[i].Assignments = slices.DeleteFunc(c.Result.Accounts[i].Assignments,
					func(as collectors.Assignment) bool { return as.App == "" })
			}
		}
	}
}
