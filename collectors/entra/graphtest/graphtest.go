// Package graphtest is a local imitation of Microsoft Graph v1.0 and the
// Microsoft identity platform's token endpoint, for tests and the demo. It
// serves TLS like the real services (azidentity refuses an authority
// without https), issues client-credentials tokens carrying application
// permissions, and serves the endpoints idgraph reads with Graph's paging
// ($top default 100, maximum 999, absolute @odata.nextLink), $select with
// the default property set without it, users/delta() with delta tokens
// that later return only changes, Graph's error bodies, and switchable
// faults (Faults) and tenant variants (Variant). A tenant may hold several
// enterprise applications (Scenario.Apps), each with its own app roles,
// assignments and settings, and users may have a manager, served through
// $expand=manager on lists (pages of at most 100 then) and manager@delta
// in delta rounds that select it.
//
// users/delta() follows Microsoft's "user: delta" reference and the delta
// query overview (learn.microsoft.com/graph/api/user-delta,
// learn.microsoft.com/graph/delta-query-overview):
//   - a tracked round (a $deltatoken) lists a user only when a selected
//     property changed; by default the item carries every selected property
//     ever set (a property cleared in the round comes as null, one never
//     set is left out); with "Prefer: return=minimal" it carries only id and
//     the changed properties ("Updated instances are represented by their id
//     with at least the properties that have been updated"); the variant
//     PartialDeltaItems gives such minimal items whatever the client asks;
//   - a deleted user comes as {"id", "@removed": {"reason": "changed"}}
//     (in deleted items, restorable) and a permanently deleted one with
//     reason "deleted";
//   - an expired token answers 400 syncStateNotFound; Faults.DeltaGone
//     answers "410 Gone" with a Location header holding a request URL with
//     an empty $deltatoken and no body (the overview's "Synchronization
//     reset").
package graphtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// This file holds how the simulator writes Graph's JSON: users with their
// default or $select'ed properties, and Graph's error body. The rest of
// the package: scenario.go (the data served), server.go (the Server and its
// controls), faults.go (Faults, Variant and serve, where every request
// enters), token.go (the identity platform's endpoints), routes.go (the
// Graph endpoints and paging), delta.go (users/delta()) and generate.go
// (large scenarios).

func requestID() string {
	b := make([]byte, 16)
	rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
}

// graphErr writes Graph's error JSON.
func graphErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg,
		"innerError": map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": requestID(), "client-request-id": requestID()}}})
}

var defaultUserProps = []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"}

func userMap(u *User) map[string]any {
	nilIf := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	arr := func(a []string) []string {
		if a == nil {
			return []string{}
		}
		return a
	}
	ut := u.UserType
	if ut == "" {
		ut = "Member"
	}
	return map[string]any{"id": u.ID, "displayName": u.DisplayName, "givenName": nilIf(u.GivenName), "surname": nilIf(u.Surname),
		"userPrincipalName": u.UserPrincipalName, "mail": nilIf(u.Mail), "otherMails": arr(u.OtherMails), "proxyAddresses": arr(u.ProxyAddresses),
		"accountEnabled": u.AccountEnabled, "userType": ut, "employeeId": nilIf(u.EmployeeID), "jobTitle": nilIf(u.JobTitle),
		"businessPhones": []string{}, "mobilePhone": nil, "officeLocation": nil, "preferredLanguage": nil,
		// The manager relationship, kept here so that ChangeUser dates its
		// changes as it does a property's; project never writes it (a
		// relationship is not a property: $expand on a list, manager@delta
		// in a delta round).
		"manager": nilIf(u.Manager)}
}

// project keeps the $select'ed properties, or the default set.
func project(m map[string]any, sel []string, def []string) map[string]any {
	keep := def
	if len(sel) > 0 {
		keep = append(sel, "id")
	}
	out := map[string]any{}
	for _, k := range keep {
		if k == "manager" {
			continue
		}
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	for k, v := range m {
		if strings.HasPrefix(k, "@") {
			out[k] = v
		}
	}
	return out
}

// expandManager reads $expand=manager or $expand=manager($select=a,b) of
// a user list: "user: list manager" ("GET /users?$expand=manager"; "you
// can specify $select inside $expand to select the individual manager's
// properties"). It reports whether the manager is expanded and the
// properties selected in it (nil: the default set).
func expandManager(r *http.Request) (bool, []string) {
	v := strings.TrimSpace(r.URL.Query().Get("$expand"))
	if v != "manager" && !strings.HasPrefix(v, "manager(") {
		return false, nil
	}
	inner := strings.TrimSuffix(strings.TrimPrefix(v, "manager("), ")")
	for _, opt := range strings.Split(inner, ";") {
		if sel, ok := strings.CutPrefix(strings.TrimSpace(opt), "$select="); ok {
			return true, strings.Split(sel, ",")
		}
	}
	return true, nil
}

// managerOf renders u's expanded manager, or nil when u has none or the
// manager is gone; callers hold mu.
func (s *Server) managerOf(u *User, sel []string) map[string]any {
	if u.Manager == "" {
		return nil
	}
	m := s.user(u.Manager)
	if m == nil {
		return nil
	}
	out := project(userMap(m), sel, defaultUserProps)
	out["@odata.type"] = "#microsoft.graph.user"
	return out
}

func selectList(r *http.Request) []string {
	v := r.URL.Query().Get("$select")
	if v == "" {
		return nil
	}
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
