package diff

// How findings say things: keys, labels, phrases and evidence lines.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/idgraph/idgraph/collectors"
)

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

// inTeam is " in Support Center" for an account of a team, and nothing
// for an application without teams.
func inTeam(a *collectors.Account) string {
	if a.Team == "" && a.TeamName == "" {
		return ""
	}
	return " in " + teamLabel(a)
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

func highestRole(app *App, as []*collectors.Account) string {
	best := ""
	for _, a := range as {
		r := app.Canonical(a.Role)
		if best == "" || app.Rank(r) > app.Rank(best) {
			best = r
		}
	}
	return best
}

func idpFact(a *collectors.Account, app string) Evidence {
	d := a.RawStatus
	if d == "" {
		d = string(a.Status)
	}
	if a.Guest {
		d += ", guest"
	}
	as := a.Assignment(app)
	switch {
	case as != nil && as.InForce:
		d += "; assigned: " + strings.Join(as.Via, "; ")
	case as != nil && len(as.Via) > 0: // an assignment not in force, e.g. an INACTIVE Okta app user
		d += "; not assigned (" + strings.Join(as.Via, "; ") + ")"
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
	d := roleOr(a.Role) + inTeam(a)
	if a.Status == collectors.StatusInvited {
		d = "invitation pending" + inTeam(a)
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
