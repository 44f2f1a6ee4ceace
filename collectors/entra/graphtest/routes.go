// routes.go holds the Graph endpoints: naming and permissions (endpoint,
// permission), the dispatch by path (route), directory lookups and group
// nesting, and Graph's paging ($top, $skiptoken, @odata.nextLink).

package graphtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
)

// endpoint names a request path by its shape, ids replaced.
func endpoint(p string) string {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for i := range parts {
		if i >= 2 && (parts[i-1] == "servicePrincipals" || parts[i-1] == "groups" || parts[i-1] == "users") && !strings.Contains(parts[i], "delta") {
			parts[i] = "{id}"
		}
	}
	e := "/" + strings.Join(parts, "/")
	return strings.NewReplacer("/microsoft.graph.delta()", "/delta()", "/delta()", "/delta()").Replace(e)
}

func permission(ep string) string {
	switch {
	case strings.HasPrefix(ep, "/v1.0/users"):
		return UserReadAll
	case strings.HasPrefix(ep, "/v1.0/servicePrincipals"):
		return ApplicationReadAll
	case strings.HasPrefix(ep, "/v1.0/groups"):
		return GroupMemberReadAll
	}
	return ""
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, ep string, f Faults) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")[1:]
	sel := selectList(r)
	switch {
	case ep == "/v1.0/users":
		s.mu.Lock()
		users := s.sc.Users
		s.mu.Unlock()
		expand, msel := expandManager(r)
		s.pageOf(w, r, ep, len(users), func(i int) map[string]any {
			m := project(userMap(&users[i]), sel, defaultUserProps)
			if expand {
				s.mu.Lock()
				if mg := s.managerOf(&users[i], msel); mg != nil {
					m["manager"] = mg
				}
				s.mu.Unlock()
			}
			return m
		}, "users", f)
	case ep == "/v1.0/users/delta()" || ep == "/v1.0/users/delta":
		s.delta(w, r, ep, sel, f)
	case len(parts) == 2 && parts[0] == "users":
		s.mu.Lock()
		u := s.user(parts[1])
		var m map[string]any
		if u != nil {
			m = project(userMap(u), sel, defaultUserProps)
			if expand, msel := expandManager(r); expand {
				if mg := s.managerOf(u, msel); mg != nil {
					m["manager"] = mg
				}
			}
		}
		s.mu.Unlock()
		if m == nil {
			graphErr(w, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", parts[1]))
			return
		}
		m["@odata.context"] = s.base(r) + "/v1.0/$metadata#users/$entity"
		s.writeJSON(w, ep, m)
	case len(parts) == 2 && parts[0] == "servicePrincipals":
		sp, ok := s.servicePrincipal(parts[1])
		if !ok {
			graphErr(w, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", parts[1]))
			return
		}
		roles := []map[string]any{}
		for _, ar := range sp.AppRoles {
			roles = append(roles, map[string]any{"allowedMemberTypes": []string{"User"}, "description": ar.DisplayName, "displayName": ar.DisplayName,
				"id": ar.ID, "isEnabled": true, "origin": "Application", "value": ar.Value})
		}
		m := map[string]any{"id": sp.ID, "appId": sp.AppID, "displayName": sp.Name, "appRoleAssignmentRequired": !sp.AssignmentNotRequired,
			"appRoles": roles, "accountEnabled": !sp.Disabled, "servicePrincipalType": "Application", "tags": []string{"WindowsAzureActiveDirectoryIntegratedApp"}}
		m = project(m, sel, []string{"id", "appId", "displayName", "appRoles", "accountEnabled", "servicePrincipalType", "tags", "appRoleAssignmentRequired"})
		m["@odata.context"] = s.base(r) + "/v1.0/$metadata#servicePrincipals/$entity"
		s.writeJSON(w, ep, m)
	case len(parts) == 3 && parts[0] == "servicePrincipals" && parts[2] == "appRoleAssignedTo":
		sp, ok := s.servicePrincipal(parts[1])
		if !ok {
			graphErr(w, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist.", parts[1]))
			return
		}
		s.mu.Lock()
		var items []map[string]any
		for i, a := range sp.Assignments {
			name, typ := s.principal(a.PrincipalID)
			items = append(items, map[string]any{"id": fmt.Sprintf("asg%04d-%s", i, a.PrincipalID[:8]), "deletedDateTime": nil, "appRoleId": a.AppRoleID,
				"createdDateTime": "2025-01-01T00:00:00Z", "principalDisplayName": name, "principalId": a.PrincipalID, "principalType": typ,
				"resourceDisplayName": sp.Name, "resourceId": sp.ID})
		}
		s.mu.Unlock()
		s.page(w, r, ep, items, "appRoleAssignments", f)
	case len(parts) == 3 && parts[0] == "groups" && (parts[2] == "members" || parts[2] == "transitiveMembers"):
		s.mu.Lock()
		g := s.group(parts[1])
		if g == nil {
			s.mu.Unlock()
			graphErr(w, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist.", parts[1]))
			return
		}
		// Members are resolved once per group and rendered only for the
		// page served: doing both for each page of a group of 100,000 made
		// large groups quadratic.
		key := parts[1] + "/" + parts[2]
		objs, ok := s.members[key]
		if !ok {
			ids := g.Members
			if parts[2] == "transitiveMembers" {
				ids = s.transitive(g)
			}
			for _, id := range ids {
				if s.user(id) != nil || s.group(id) != nil {
					objs = append(objs, id)
				}
			}
			s.members[key] = objs
		}
		s.mu.Unlock()
		s.pageOf(w, r, ep, len(objs), func(i int) map[string]any {
			s.mu.Lock()
			defer s.mu.Unlock()
			if u := s.user(objs[i]); u != nil {
				m := project(userMap(u), sel, defaultUserProps)
				m["@odata.type"] = "#microsoft.graph.user"
				return m
			}
			if sg := s.group(objs[i]); sg != nil {
				return map[string]any{"@odata.type": "#microsoft.graph.group", "id": sg.ID, "displayName": sg.DisplayName}
			}
			return map[string]any{"@odata.type": "#microsoft.graph.directoryObject", "id": objs[i]} // removed meanwhile

		}, "directoryObjects", f)
	default:
		graphErr(w, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+parts[len(parts)-1]+"'.")
	}
}

// servicePrincipal returns the service principal with object id id: the
// scenario's first application (its settings from the Variant) or one of
// its Apps.
func (s *Server) servicePrincipal(id string) (ServicePrincipal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == s.sc.SPID {
		return ServicePrincipal{ID: s.sc.SPID, AppID: s.sc.AppID, Name: s.sc.AppName, AppRoles: s.sc.AppRoles, Assignments: s.sc.Assignments,
			AssignmentNotRequired: s.variant.AssignmentNotRequired, Disabled: s.variant.ServicePrincipalDisabled}, true
	}
	for _, sp := range s.sc.Apps {
		if sp.ID == id {
			return sp, true
		}
	}
	return ServicePrincipal{}, false
}

func (s *Server) base(r *http.Request) string { return "https://" + r.Host }

func (s *Server) user(id string) *User {
	if i, ok := s.byID[id]; ok {
		return &s.sc.Users[i]
	}
	return nil
}

func (s *Server) group(id string) *Group {
	for i := range s.sc.Groups {
		if s.sc.Groups[i].ID == id {
			return &s.sc.Groups[i]
		}
	}
	return nil
}

func (s *Server) principal(id string) (string, string) {
	if u := s.user(id); u != nil {
		return u.DisplayName, "User"
	}
	if g := s.group(id); g != nil {
		return g.DisplayName, "Group"
	}
	return "", "ServicePrincipal"
}

// transitive lists every member reached through nesting, groups included.
func (s *Server) transitive(g *Group) []string {
	seen := map[string]bool{}
	var out []string
	var walk func(*Group)
	walk = func(g *Group) {
		for _, m := range g.Members {
			if seen[m] {
				continue
			}
			seen[m] = true
			out = append(out, m)
			if sg := s.group(m); sg != nil {
				walk(sg)
			}
		}
	}
	walk(g)
	return out
}

// skip tokens carry the offset, opaque to clients as Graph's are; a
// RepeatFresh nonce may follow it after a dot.
func encodeSkip(off int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(off)))
}

func decodeSkip(t string) (int, bool) {
	t, _, _ = strings.Cut(t, ".")
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil || !strings.HasPrefix(string(b), "o:") {
		return 0, false
	}
	n, err := strconv.Atoi(string(b[2:]))
	return n, err == nil
}

func (s *Server) page(w http.ResponseWriter, r *http.Request, ep string, items []map[string]any, ctx string, f Faults) {
	s.pageOf(w, r, ep, len(items), func(i int) map[string]any { return items[i] }, ctx, f)
}

// pageOf serves one page of n items with $top (default 100, maximum 999)
// and an absolute @odata.nextLink carrying a $skiptoken; item renders the
// i-th item, so that only the page's items are rendered.
func (s *Server) pageOf(w http.ResponseWriter, r *http.Request, ep string, n int, item func(int) map[string]any, ctx string, f Faults) {
	q := r.URL.Query()
	top := 100
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 999 {
			graphErr(w, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", v))
			return
		}
		top = n
	}
	if q.Get("$expand") != "" && top > 100 {
		// A directory list with $expand comes in pages of at most 100,
		// whatever $top asks: Microsoft's known issue 13635 ("$expand on
		// directory objects: returns a maximum of 100 objects"), as
		// answered on Tech Community ("The top parameter does not work
		// together with the expand parameter", 2023).
		top = 100
	}
	off := 0
	if t := q.Get("$skiptoken"); t != "" {
		n, ok := decodeSkip(t)
		if !ok {
			graphErr(w, http.StatusBadRequest, "Request_BadRequest", "The specified page token value has expired and can no longer be included in your request.")
			return
		}
		off = n
	}
	if s.fail(w, r, ep, off/top+1, f) {
		return
	}
	end := min(off+top, n)
	pageItems := []map[string]any{}
	for i := min(off, n); i < end; i++ {
		pageItems = append(pageItems, item(i))
	}
	body := map[string]any{"@odata.context": s.base(r) + "/v1.0/$metadata#" + ctx, "value": pageItems}
	if end < n {
		nq := r.URL.Query()
		nq.Set("$skiptoken", encodeSkip(end))
		body["@odata.nextLink"] = s.base(r) + r.URL.Path + "?" + encode(nq)
	}
	if link, ok := s.repeat(r, off/top+1, f, func(nonce string) string {
		nq := r.URL.Query()
		nq.Set("$skiptoken", encodeSkip(off)+nonce)
		return s.base(r) + r.URL.Path + "?" + encode(nq)
	}); ok {
		body["@odata.nextLink"] = link
	}
	s.writePage(w, r, ep, body, off/top+1, f)
}

func nonNil(items []map[string]any) []map[string]any {
	if items == nil {
		return []map[string]any{}
	}
	return items
}

func (s *Server) writeJSON(w http.ResponseWriter, ep string, v any) {
	b, _ := json.Marshal(v)
	s.send(w, ep, b)
}

// url rebuilds the request's URL with only set as its paging parameter,
// keeping the other query parameters ($select) as Graph does.
func url(r *http.Request, set map[string]string) string {
	q := r.URL.Query()
	q.Del("$skiptoken")
	q.Del("$deltatoken")
	for k, v := range set {
		q.Set(k, v)
	}
	return "https://" + r.Host + r.URL.Path + "?" + encode(q)
}

// encode writes a query as Graph does: $-prefixed names unescaped.
func encode(q neturl.Values) string {
	return strings.ReplaceAll(q.Encode(), "%24", "$")
}
