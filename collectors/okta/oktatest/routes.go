// routes.go holds the endpoints: who the caller is (authorize), the
// dispatch by path (route), the users list with its filter syntax, and
// Okta's cursor pagination (paginate), where the page faults apply.

package oktatest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

func endpointName(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i := range parts {
		if i == 3 && len(parts) > 3 {
			parts[i] = "{id}"
		}
	}
	return "/" + strings.Join(parts, "/")
}

func requiredScope(path string) string {
	switch {
	case strings.Contains(path, "/roles"):
		// Role assignments and their targets need okta.roles.read (the
		// management API spec's security on listAssignedRolesForUser,
		// listGroupTargetsForRole, listRolesForClient).
		return "okta.roles.read"
	case strings.HasPrefix(path, "/api/v1/users"):
		return "okta.users.read"
	case strings.HasPrefix(path, "/api/v1/groups"):
		return "okta.groups.read"
	case strings.HasPrefix(path, "/api/v1/apps"):
		return "okta.apps.read"
	}
	return ""
}

// caller is who a request authenticated as.
type caller struct {
	scopes []string    // an OAuth access token's scopes; nil for SSWS
	roles  []AdminRole // the token owner's or the service app's admin roles
	noUser bool        // an OAuth service app: there is no "me"
}

// authorize says who the caller is and whether they are authenticated.
func (s *Server) authorize(r *http.Request, f Faults) (caller, bool) {
	if f.Unauthorized {
		return caller{}, false
	}
	a := r.Header.Get("Authorization")
	switch {
	case strings.HasPrefix(a, "SSWS "):
		return caller{roles: rolesOrDefault(s.sc.AdminRoles)}, s.sc.Token != "" && strings.TrimPrefix(a, "SSWS ") == s.sc.Token
	case strings.HasPrefix(a, "Bearer "):
		s.mu.Lock()
		defer s.mu.Unlock()
		sc, ok := s.tokens[strings.TrimPrefix(a, "Bearer ")]
		if sc == nil {
			sc = []string{}
		}
		var roles []AdminRole
		if s.sc.OAuth != nil {
			roles = rolesOrDefault(s.sc.OAuth.Roles)
		}
		return caller{scopes: sc, roles: roles, noUser: true}, ok
	}
	return caller{}, false
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, ix *index, f Faults, v *view) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 3 || parts[0] != "api" || parts[1] != "v1" {
		okErr(w, http.StatusNotFound, "E0000022", "The endpoint does not support the provided HTTP method")
		return
	}
	switch {
	case len(parts) == 3 && parts[2] == "users":
		s.listUsers(w, r, ix, f, v)
	case len(parts) == 5 && parts[2] == "apps" && parts[4] == "users":
		app, ok := ix.apps[parts[3]]
		if !ok {
			okErr(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+parts[3]+" (AppInstance)")
			return
		}
		items := ix.list("app users "+parts[3], func() []page {
			items := make([]page, len(app.users))
			for i, au := range app.users {
				items[i] = page{ix.users[au.user].ID, au.json}
			}
			return items
		})
		s.paginate(w, r, v.filter(ix, items), 50, 500, f)
	case len(parts) == 5 && parts[2] == "apps" && parts[4] == "groups":
		app, ok := ix.apps[parts[3]]
		if !ok {
			okErr(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+parts[3]+" (AppInstance)")
			return
		}
		items := make([]page, len(app.groups))
		for i, g := range app.groups {
			profile := map[string]any{}
			if v := roleValue(g.Role, g.Roles); v != nil {
				profile["role"] = v
			}
			b, _ := json.Marshal(map[string]any{"id": g.GroupID, "lastUpdated": "2024-01-01T00:00:00.000Z", "priority": g.Priority,
				"profile": profile, "_links": map[string]any{"group": map[string]any{"href": "/api/v1/groups/" + g.GroupID}}})
			items[i] = page{g.GroupID, b}
		}
		s.paginate(w, r, items, 20, 200, f)
	case len(parts) == 4 && parts[2] == "groups":
		b, ok := ix.groupJSON[parts[3]]
		if !ok {
			okErr(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+parts[3]+" (UserGroup)")
			return
		}
		s.write(w, b)
	case len(parts) == 5 && parts[2] == "groups" && parts[4] == "users":
		members, ok := ix.groupUsers[parts[3]]
		if !ok {
			okErr(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+parts[3]+" (UserGroup)")
			return
		}
		// The member list has no okta-response parameter in Okta's spec:
		// its users always carry credentials and their links.
		items := ix.list("group "+parts[3], func() []page {
			items := make([]page, len(members))
			for i, k := range members {
				items[i] = page{ix.users[k].ID, withCredentials(ix.userJSON[k], ix.users[k].ID, true, true)}
			}
			return items
		})
		s.paginate(w, r, v.filter(ix, items), 1000, 1000, f)
	default:
		okErr(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+r.URL.Path)
	}
}

type page struct {
	id   string
	json []byte
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, ix *index, f Faults, v *view) {
	q := r.URL.Query()
	expr := q.Get("filter")
	if expr == "" {
		expr = q.Get("search")
	}
	var match func(*User) bool
	if expr != "" {
		m, err := parseFilter(expr)
		if err != nil {
			okErr(w, http.StatusBadRequest, "E0000031", "Invalid search criteria.")
			return
		}
		match = m
	}
	if f.NoAdmin || v.none() {
		s.write(w, []byte("[]"))
		return
	}
	creds, links := credentialParts(r.Header.Get("Content-Type"))
	if !creds && !links {
		s.mu.Lock()
		s.stats.OmittedCredentials++
		s.mu.Unlock()
	}
	items := ix.list(fmt.Sprintf("users %v %v %s", creds, links, expr), func() []page {
		var items []page
		for i := range ix.users {
			u := &ix.users[i]
			// Without a filter or search, Okta leaves DEPROVISIONED users out.
			if match == nil && u.Status == "DEPROVISIONED" {
				continue
			}
			if match != nil && !match(u) {
				continue
			}
			items = append(items, page{u.ID, withCredentials(ix.userJSON[i], u.ID, creds, links)})
		}
		return items
	})
	s.paginate(w, r, v.filter(ix, items), 200, 200, f)
}

// parseFilter understands the subset of Okta's filter syntax idgraph uses:
// clauses `field op "value"` on status, lastUpdated, id, profile.login and
// profile.email, joined by and / or.
func parseFilter(expr string) (func(*User) bool, error) {
	var ors [][]func(*User) bool
	for _, alt := range strings.Split(expr, " or ") {
		var ands []func(*User) bool
		for _, c := range strings.Split(alt, " and ") {
			c = strings.Trim(strings.TrimSpace(c), "()")
			fields := strings.SplitN(c, " ", 3)
			if len(fields) != 3 || len(fields[2]) < 2 || fields[2][0] != '"' || fields[2][len(fields[2])-1] != '"' {
				return nil, fmt.Errorf("bad clause %q", c)
			}
			field, op, val := fields[0], fields[1], fields[2][1:len(fields[2])-1]
			var get func(*User) string
			timeField := false
			switch field {
			case "status":
				get = func(u *User) string { return u.Status }
			case "id":
				get = func(u *User) string { return u.ID }
			case "profile.login":
				get = func(u *User) string { return u.Login }
			case "profile.email":
				get = func(u *User) string { return u.Email }
			case "lastUpdated":
				timeField = true
			default:
				return nil, fmt.Errorf("unsupported field %q", field)
			}
			if timeField {
				t, err := time.Parse(time.RFC3339, val)
				if err != nil {
					return nil, err
				}
				switch op {
				case "gt":
					ands = append(ands, func(u *User) bool { return u.LastUpdated.After(t) })
				case "ge":
					ands = append(ands, func(u *User) bool { return !u.LastUpdated.Before(t) })
				case "lt":
					ands = append(ands, func(u *User) bool { return u.LastUpdated.Before(t) })
				default:
					return nil, fmt.Errorf("unsupported operator %q", op)
				}
				continue
			}
			if op != "eq" {
				return nil, fmt.Errorf("unsupported operator %q", op)
			}
			ands = append(ands, func(u *User) bool { return get(u) == val })
		}
		ors = append(ors, ands)
	}
	return func(u *User) bool {
		for _, ands := range ors {
			all := true
			for _, f := range ands {
				all = all && f(u)
			}
			if all {
				return true
			}
		}
		return false
	}, nil
}

// paginate serves one page of items (sorted by id) with Okta's cursor
// pagination: `after` is the last id of the previous page, and the
// response carries a rel="self" and, when more remain, a rel="next" Link
// header, each in its own header line.
func (s *Server) paginate(w http.ResponseWriter, r *http.Request, items []page, def, maxLimit int, f Faults) {
	q := r.URL.Query()
	limit := def
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			okErr(w, http.StatusBadRequest, "E0000001", "Api validation failed: limit")
			return
		}
		limit = min(n, maxLimit)
	}
	start := 0
	if after := q.Get("after"); after != "" {
		start = sort.Search(len(items), func(i int) bool { return items[i].id > after })
	}
	end := min(start+limit, len(items))
	// Pages are counted in the endpoint's largest page, so that a fault on
	// "page 2" stays on the same records when a client retries it with a
	// smaller limit.
	pageNo := start/maxLimit + 1
	if f.LimitTimeout > 0 && limit > f.LimitTimeout {
		okErr(w, http.StatusInternalServerError, "E0000009", "Internal Server Error")
		return
	}
	if f.FailPage > 0 && pageNo == f.FailPage && strings.HasPrefix(r.URL.Path, f.FailPath) {
		s.mu.Lock()
		fail := f.FailTimes == 0 || s.fails < f.FailTimes
		if fail {
			s.fails++
		}
		s.mu.Unlock()
		if fail {
			st := f.FailStatus
			if st == 0 {
				st = http.StatusInternalServerError
			}
			okErr(w, st, "E0000009", "Internal Server Error")
			return
		}
	}
	base := "http://" + r.Host + r.URL.Path
	self := url(base, q, "")
	w.Header().Add("Link", "<"+self+`>; rel="self"`)
	switch {
	case f.LoopPage > 0 && pageNo == f.LoopPage && strings.HasPrefix(r.URL.Path, f.LoopPath):
		// A cursor that does not advance: next leads to this page again.
		w.Header().Add("Link", "<"+url(base, q, q.Get("after"))+`>; rel="next"`)
	case end < len(items):
		w.Header().Add("Link", "<"+url(base, q, items[end-1].id)+`>; rel="next"`)
	}
	var b strings.Builder
	b.Grow((end - start) * 300)
	b.WriteByte('[')
	for i := start; i < end; i++ {
		if i > start {
			b.WriteByte(',')
		}
		b.Write(items[i].json)
	}
	b.WriteByte(']')
	body := []byte(b.String())
	if f.MalformedPage > 0 && pageNo == f.MalformedPage && strings.HasPrefix(r.URL.Path, f.MalformedPath) {
		body = body[:len(body)/2]
	}
	s.mu.Lock()
	key := endpointName(r.URL.Path)
	s.stats.MaxPerPage[key] = max(s.stats.MaxPerPage[key], end-start)
	s.mu.Unlock()
	s.write(w, body)
}

func url(base string, q map[string][]string, after string) string {
	v := make([]string, 0, len(q)+1)
	for k, vals := range q {
		if k == "after" {
			continue
		}
		for _, x := range vals {
			v = append(v, queryEscape(k)+"="+queryEscape(x))
		}
	}
	if after != "" {
		v = append(v, "after="+queryEscape(after))
	}
	sort.Strings(v)
	if len(v) == 0 {
		return base
	}
	return base + "?" + strings.Join(v, "&")
}
