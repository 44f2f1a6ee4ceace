// Package oktatest is a local imitation of the Okta Management API, for
// tests and the demo: the endpoints idgraph reads, with Okta's pagination
// (two Link headers, after cursors, page-size defaults and maxima), its
// filters, rate-limit headers on every response, its error bodies, SSWS
// and OAuth 2.0 (private key JWT) authentication, the token owner and the
// admin roles of the token or service app (a group-scoped admin sees only
// its groups' users), several applications with their own assignments,
// app-user statuses and string-array role attributes, managers in the
// user profile (managerId, manager),
// the okta-response Content-Type parameter, and switchable faults (rate
// and concurrency limits, failing, malformed or looping pages, DPoP
// required by the service app).
package oktatest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// This file holds the index, the scenario pre-rendered as Okta's JSON
// (users with or without their credentials, groups, app users), and Okta's
// error body. The rest of the package: scenario.go (the data served),
// server.go (the Server and its controls), faults.go (what can be injected
// and serve, where every request enters), routes.go (the endpoints and
// pagination), admin.go (admin roles), oauth.go (the token endpoint) and
// generate.go (large scenarios).

// index holds pre-rendered JSON so that large scenarios serve fast.
type index struct {
	users      []User
	userJSON   [][]byte
	byID       map[string]int
	groups     map[string]*Group
	groupJSON  map[string][]byte
	apps       map[string]*appIndex // app id -> its assignments
	groupUsers map[string][]int     // group -> sorted user indexes

	// lists memoises each list endpoint's items (users by filter, app
	// users, a group's members): building one is a pass over every user,
	// and doing it for every page made a 1,000,000-user read quadratic.
	// build makes a fresh index, so a change never serves stale lists.
	mu    sync.Mutex
	lists map[string][]page
}

// list returns the items for key, made by mk on first use.
func (ix *index) list(key string, mk func() []page) []page {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if l, ok := ix.lists[key]; ok {
		return l
	}
	if ix.lists == nil {
		ix.lists = map[string][]page{}
	}
	l := mk()
	ix.lists[key] = l
	return l
}

// appIndex is one application's assignments, as Okta lists them.
type appIndex struct {
	users  []appUser         // sorted by user index
	groups []GroupAssignment // sorted by group id
}

type appUser struct {
	user  int
	scope string
	role  any // string or []string: the app-user profile's role attribute
	stat  string
	json  []byte
}

// roleValue is what an assignment puts in the profile's role attribute.
func roleValue(role string, roles []string) any {
	if roles != nil {
		return roles
	}
	if role == "" {
		return nil
	}
	return role
}

func build(sc *Scenario) *index {
	ix := &index{byID: map[string]int{}, groups: map[string]*Group{}, groupJSON: map[string][]byte{}, groupUsers: map[string][]int{}}
	ix.users = slices.Clone(sc.Users)
	sort.Slice(ix.users, func(i, j int) bool { return ix.users[i].ID < ix.users[j].ID })
	ix.userJSON = make([][]byte, len(ix.users))
	for i, u := range ix.users {
		ix.byID[u.ID] = i
		ix.userJSON[i] = userJSON(u)
	}
	for i := range sc.Groups {
		g := &sc.Groups[i]
		ix.groups[g.ID] = g
		ix.groupJSON[g.ID] = groupJSON(g)
		var members []int
		for _, m := range g.Members {
			if k, ok := ix.byID[m]; ok {
				members = append(members, k)
			}
		}
		slices.Sort(members)
		ix.groupUsers[g.ID] = slices.Compact(members)
	}
	ix.apps = map[string]*appIndex{}
	for _, app := range sc.AllApps() {
		ix.apps[app.ID] = ix.app(app)
	}
	return ix
}

// app resolves one application's app users.
func (ix *index) app(app App) *appIndex {
	ai := &appIndex{groups: slices.Clone(app.GroupAssignments)}
	sort.Slice(ai.groups, func(i, j int) bool { return ai.groups[i].GroupID < ai.groups[j].GroupID })
	// Okta lists every user who can use the app: direct assignments (scope
	// USER) and members of assigned groups (scope GROUP), with the role of
	// the direct assignment or else of the highest-priority group.
	type res struct {
		scope, stat string
		role        any
		prio        int
	}
	resolved := map[int]*res{}
	for _, d := range app.Direct {
		if k, ok := ix.byID[d.UserID]; ok {
			st := d.Status
			if st == "" {
				st = "ACTIVE"
			}
			resolved[k] = &res{"USER", st, roleValue(d.Role, d.Roles), -1}
		}
	}
	for _, ga := range app.GroupAssignments {
		for _, k := range ix.groupUsers[ga.GroupID] {
			r, ok := resolved[k]
			switch {
			case !ok:
				resolved[k] = &res{"GROUP", "ACTIVE", roleValue(ga.Role, ga.Roles), ga.Priority}
			case r.scope == "GROUP" && ga.Priority < r.prio:
				r.role, r.prio = roleValue(ga.Role, ga.Roles), ga.Priority
			}
		}
	}
	for k, r := range resolved {
		// Okta keeps an app user whose assignment is not in force (its
		// status says so: AppUserStatus in the management API spec).
		if st, ok := app.AppUserStatus[ix.users[k].ID]; ok {
			r.stat = st
		}
		au := appUser{user: k, scope: r.scope, role: r.role, stat: r.stat}
		au.json = appUserJSON(ix.users[k], au)
		ai.users = append(ai.users, au)
	}
	sort.Slice(ai.users, func(i, j int) bool { return ai.users[i].user < ai.users[j].user })
	return ai
}

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func userJSON(u User) []byte {
	display := u.DisplayName
	profile := map[string]any{"firstName": u.FirstName, "lastName": u.LastName, "login": u.Login, "email": u.Email,
		"secondEmail": nilIfEmpty(u.SecondEmail), "mobilePhone": nil}
	if display != "" {
		profile["displayName"] = display
	}
	if u.EmployeeNumber != "" {
		profile["employeeNumber"] = u.EmployeeNumber
	}
	if u.ManagerID != "" {
		profile["managerId"] = u.ManagerID
	}
	if u.Manager != "" {
		profile["manager"] = u.Manager
	}
	b, _ := json.Marshal(map[string]any{
		"id": u.ID, "status": u.Status, "created": ts(u.Created), "activated": ts(u.Created),
		"statusChanged": ts(u.StatusChanged), "lastLogin": ts(u.LastLogin), "lastUpdated": ts(u.LastUpdated),
		"passwordChanged": ts(u.Created), "type": map[string]any{"id": "oty1simulator0000000"},
		"profile": profile, "_links": map[string]any{"self": map[string]any{"href": "/api/v1/users/" + u.ID}},
	})
	return b
}

// withCredentials adds to a user's JSON, rendered without them, the
// credentials object and the credential HAL links (change and reset the
// password, the recovery question, the factors) that Okta includes unless
// the request's Content-Type says okta-response=omitCredentials,
// omitCredentialsLinks (the OktaResponse parameter of listUsers in Okta's
// management API spec).
func withCredentials(lean []byte, id string, creds, links bool) []byte {
	if !creds && !links {
		return lean
	}
	const head = `{"_links":{`
	var b strings.Builder
	b.Grow(len(lean) + 900)
	b.WriteString(head)
	if links {
		for _, l := range []struct{ rel, path string }{
			{"changePassword", "/credentials/change_password"}, {"changeRecoveryQuestion", "/credentials/change_recovery_question"},
			{"forgotPassword", "/credentials/forgot_password"}, {"resetPassword", "/lifecycle/reset_password"},
			{"resetFactors", "/lifecycle/reset_factors"}, {"expirePassword", "/lifecycle/expire_password"},
		} {
			fmt.Fprintf(&b, `"%s":{"href":"/api/v1/users/%s%s","hints":{"allow":["POST"]}},`, l.rel, id, l.path)
		}
	}
	b.Write(lean[len(head) : len(lean)-1])
	if creds {
		b.WriteString(`,"credentials":{"password":{},"recovery_question":{"question":"Who's a major player in the cowboy scene?"},"provider":{"type":"OKTA","name":"OKTA"}}`)
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// credentialParts reads the okta-response parameter of a Content-Type
// header: whether the credentials object and the credential links stay.
func credentialParts(contentType string) (creds, links bool) {
	creds, links = true, true
	_, v, ok := strings.Cut(contentType, "okta-response=")
	if !ok {
		return
	}
	v, _, _ = strings.Cut(v, ";")
	for _, o := range strings.Split(strings.Trim(strings.TrimSpace(v), `"`), ",") {
		switch strings.TrimSpace(o) {
		case "omitCredentials":
			creds = false
		case "omitCredentialsLinks":
			links = false
		}
	}
	return
}

func groupJSON(g *Group) []byte {
	mu := g.MembershipUpdated
	if mu.IsZero() {
		mu = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	b, _ := json.Marshal(map[string]any{"id": g.ID, "created": "2024-01-01T00:00:00.000Z", "lastUpdated": "2024-01-01T00:00:00.000Z",
		"lastMembershipUpdated": ts(mu), "objectClass": []string{"okta:user_group"}, "type": "OKTA_GROUP",
		"profile": map[string]any{"name": g.Name, "description": ""}, "_links": map[string]any{}})
	return b
}

func appUserJSON(u User, au appUser) []byte {
	profile := map[string]any{}
	if au.role != nil {
		profile["role"] = au.role
	}
	b, _ := json.Marshal(map[string]any{"id": u.ID, "externalId": nil, "created": ts(u.Created), "lastUpdated": ts(u.LastUpdated),
		"scope": au.scope, "status": au.stat, "statusChanged": ts(u.Created), "passwordChanged": nil, "syncState": "DISABLED",
		"credentials": map[string]any{"userName": u.Login}, "profile": profile,
		"_links": map[string]any{"user": map[string]any{"href": "/api/v1/users/" + u.ID}}})
	return b
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// okErr writes Okta's error JSON.
func okErr(w http.ResponseWriter, status int, code, summary string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	id := make([]byte, 10)
	rand.Read(id)
	json.NewEncoder(w).Encode(map[string]any{"errorCode": code, "errorSummary": summary, "errorLink": code,
		"errorId": "oae" + hex.EncodeToString(id), "errorCauses": []any{}})
}
