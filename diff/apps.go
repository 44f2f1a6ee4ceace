package diff

// Applications: each has a name, a title and a role ladder, and the rules
// by which IdP facts imply one of its roles (docs/RULES.md,
// "Applications"). The run builds them from the sources' declarations and
// the configuration; nothing here names an application.

import (
	"slices"
	"strings"

	"github.com/idgraph/idgraph/collectors"
)

// App is what the findings engine knows of one application.
type App struct {
	Name  string
	Title string // as people write it; "" : the name, capitalised
	// Ladder lists the application's roles from the lowest privilege to the
	// highest. Its two highest rungs, never the lowest, are privileged
	// (Member < Admin < Owner: Admin and Owner; a ladder with a Guest rung below Member
	// still makes Member ordinary): a leaver who holds one is critical.
	Ladder []string
	Rules  []RoleRule
}

// RoleRule says that an IdP fact implies a role in one application. The
// run resolves configuration keys such as okta_group into the sources
// they read, so that the engine holds no source names.
type RoleRule struct {
	// Sources are the IdP sources whose accounts the rule reads; a default
	// rule reads every IdP.
	Sources []string
	Group   string // direct member of this group
	AppRole string // the assignment carries this role value
	Default bool   // the role of an assigned person no other rule matches
	Role    string
	Why     string // how the evidence names the rule: "okta group App Admins"
}

// TitleOf returns how people write an application's name.
func (a *App) TitleOf() string {
	if a != nil && a.Title != "" {
		return a.Title
	}
	if a == nil || a.Name == "" {
		return "the app"
	}
	return strings.ToUpper(a.Name[:1]) + a.Name[1:]
}

// Rank orders role by the ladder: 1 for the lowest rung, 0 for text that
// is not one of the application's roles. Roles compare without case and
// surrounding space.
func (a *App) Rank(role string) int {
	role = strings.TrimSpace(role)
	if a == nil || role == "" {
		return 0
	}
	for i, r := range a.Ladder {
		if strings.EqualFold(r, role) {
			return i + 1
		}
	}
	return 0
}

// Canonical spells role as the ladder does, or returns it trimmed when it
// is not one of the application's roles.
func (a *App) Canonical(role string) string {
	if r := a.Rank(role); r > 0 {
		return a.Ladder[r-1]
	}
	return strings.TrimSpace(role)
}

// Privileged reports whether role is one of the two highest rungs, and
// not the lowest.
func (a *App) Privileged(role string) bool { return a.Rank(role) > max(1, len(a.Ladder)-2) }

// Top reports whether role is the highest rung (an Owner).
func (a *App) Top(role string) bool { return a.Rank(role) > 0 && a.Rank(role) == len(a.Ladder) }

func (r *RoleRule) reads(source string) bool {
	return r.Default || slices.Contains(r.Sources, source)
}

func (r *RoleRule) matches(a *collectors.Account, as *collectors.Assignment) bool {
	if !r.reads(a.Source) {
		return false
	}
	switch {
	case r.Group != "":
		return hasFold(a.Groups, r.Group)
	case r.AppRole != "":
		return hasFold(as.Roles, r.AppRole)
	}
	return false
}
