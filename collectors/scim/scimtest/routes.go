// routes.go holds the endpoints: ServiceProviderConfig (RFC 7643 §5), the
// /Users list with its paging (RFC 7644 §3.4.2.4), one user (§3.4.1), its
// PATCH (§3.5.2) and DELETE (§3.6), /Me (§3.11) and /Groups.

package scimtest

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

func (s *Server) route(w http.ResponseWriter, r *http.Request, path string) {
	switch {
	case path == "/ServiceProviderConfig" && r.Method == http.MethodGet:
		s.serviceProviderConfig(w)
	case path == "/Users" && r.Method == http.MethodGet:
		s.listUsers(w, r)
	case path == "/Me" && r.Method == http.MethodGet:
		s.mu.Lock()
		me := s.sc.Me
		s.mu.Unlock()
		if me == "" {
			// RFC 7644 §3.11: a service provider that does not support
			// /Me should answer 501 Not Implemented.
			scimError(w, http.StatusNotImplemented, "", "/Me is not supported.")
			return
		}
		s.getUser(w, me)
	case strings.HasPrefix(path, "/Users/"):
		id := strings.TrimPrefix(path, "/Users/")
		switch r.Method {
		case http.MethodGet:
			s.getUser(w, id)
		case http.MethodPatch:
			s.patchUser(w, r, id)
		case http.MethodDelete:
			s.deleteUser(w, id)
		default:
			scimError(w, http.StatusMethodNotAllowed, "", r.Method+" is not supported on a User.")
		}
	case path == "/Groups" && r.Method == http.MethodGet:
		s.listGroups(w, r)
	case strings.HasPrefix(path, "/Groups/"):
		id := strings.TrimPrefix(path, "/Groups/")
		switch r.Method {
		case http.MethodGet:
			s.getGroup(w, id)
		case http.MethodPatch:
			s.patchGroup(w, r, id)
		default:
			scimError(w, http.StatusMethodNotAllowed, "", r.Method+" is not supported on a Group.")
		}
	default:
		scimError(w, http.StatusNotFound, "", "No endpoint "+r.Method+" "+path+".")
	}
}

// serviceProviderConfig follows the schema of RFC 7643 §5 and the shape of
// its example in §8.5.
func (s *Server) serviceProviderConfig(w http.ResponseWriter) {
	s.mu.Lock()
	sc, f := s.sc, s.faults
	s.mu.Unlock()
	if f.NoServiceProviderConfig {
		scimError(w, http.StatusNotFound, "", "No endpoint GET /ServiceProviderConfig.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":          []string{SPCSchema},
		"documentationUri": "https://example.com/help/scim",
		"patch":            map[string]any{"supported": !sc.NoPatch},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": sc.MaxResults},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": false},
		"authenticationSchemes": []map[string]any{{
			"type": "oauthbearertoken", "name": "OAuth Bearer Token",
			"description": "Authentication scheme using the OAuth Bearer Token Standard",
			"specUri":     "https://www.rfc-editor.org/info/rfc6750", "primary": true,
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": s.URL + "/ServiceProviderConfig"},
	})
}

// eqFilter is the one filter form the simulator understands, `attr eq
// "value"` (RFC 7644 §3.4.2.2), which is what clients look users and
// groups up by.
var eqFilter = regexp.MustCompile(`^\s*([A-Za-z][\w.]*)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$`)

func filterOf(r *http.Request) (attr, value string, ok bool, bad bool) {
	f := r.URL.Query().Get("filter")
	if f == "" {
		return "", "", false, false
	}
	m := eqFilter.FindStringSubmatch(f)
	if m == nil {
		return "", "", false, true
	}
	v, err := strconv.Unquote(`"` + m[2] + `"`)
	if err != nil {
		return "", "", false, true
	}
	return m[1], v, true, false
}

// listUsers serves a ListResponse (RFC 7644 §3.4.2): startIndex is
// 1-based and values below 1 mean 1; count is the most resources wanted, a
// negative count means 0, and "the service provider MUST NOT return more
// results than specified, although it MAY return fewer" (§3.4.2.4);
// itemsPerPage is the number of resources returned.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	start, count := 1, -1
	if v := q.Get("startIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			scimError(w, http.StatusBadRequest, "invalidValue", "startIndex must be an integer.")
			return
		}
		start = max(n, 1)
	}
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			scimError(w, http.StatusBadRequest, "invalidValue", "count must be an integer.")
			return
		}
		count = max(n, 0)
	}
	attr, value, filtered, bad := filterOf(r)
	if bad || filtered && attr != "userName" && attr != "id" && attr != "externalId" {
		scimError(w, http.StatusBadRequest, "invalidFilter", "Only `userName eq`, `id eq` and `externalId eq` filters are supported.")
		return
	}

	s.mu.Lock()
	f, maxResults := s.faults, s.sc.MaxResults
	size := maxResults
	if count >= 0 && count < size {
		size = count
	}
	if f.CapCount > 0 && size > f.CapCount {
		size = f.CapCount
	}
	if f.IgnoreCount > 0 {
		size = f.IgnoreCount
	}
	if f.IgnoreStartIndex {
		start = 1
	}
	page := 1
	if size > 0 {
		page = (start-1)/size + 1
	}
	from := start
	if f.RepeatPage > 0 && page == f.RepeatPage+1 && size > 0 {
		from = start - size
	}
	var all []map[string]any
	for _, u := range s.users {
		if filtered && !strings.EqualFold(str(u.attrs[attr]), value) {
			continue
		}
		all = append(all, s.render(u))
	}
	s.mu.Unlock()

	if s.pageFault(w, r, page) {
		return
	}
	total := len(all)
	if f.TotalDriftPage > 0 && page >= f.TotalDriftPage {
		total += f.TotalDrift
	}
	res := []map[string]any{}
	for i := from - 1; i < len(all) && len(res) < size; i++ {
		if i >= 0 {
			res = append(res, all[i])
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":      []string{ListResponseURN},
		"totalResults": total,
		"startIndex":   start,
		"itemsPerPage": len(res),
		"Resources":    res,
	})
}

func str(v any) string { s, _ := v.(string); return s }

func (s *Server) getUser(w http.ResponseWriter, id string) {
	s.mu.Lock()
	i := s.find(id)
	var body map[string]any
	if i >= 0 {
		body = s.render(s.users[i])
	}
	s.mu.Unlock()
	if i < 0 {
		scimError(w, http.StatusNotFound, "", "Resource "+id+" not found.")
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// refused answers a write the faults refuse; it reports whether it did.
func (s *Server) refused(w http.ResponseWriter, id string) bool {
	s.mu.Lock()
	st := s.faults.RefuseWrite[id]
	s.mu.Unlock()
	switch {
	case st == 0:
		return false
	case st == http.StatusConflict:
		scimError(w, st, "uniqueness", "The change conflicts with the state of the resource.")
	case st >= 500:
		scimError(w, st, "", "An internal error occurred.")
	default:
		scimError(w, st, "", "The change was refused.")
	}
	return true
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	noPatch, noContent := s.sc.NoPatch, s.sc.PatchNoContent
	s.mu.Unlock()
	if noPatch {
		scimError(w, http.StatusNotImplemented, "", "PATCH is not supported.")
		return
	}
	if s.refused(w, id) {
		return
	}
	ops, perr := readPatch(r)
	if perr != nil {
		scimError(w, perr.status, perr.scimType, perr.detail)
		return
	}
	s.mu.Lock()
	i := s.find(id)
	if i < 0 {
		s.mu.Unlock()
		scimError(w, http.StatusNotFound, "", "Resource "+id+" not found.")
		return
	}
	// Operations apply to a copy: RFC 7644 §3.5.2 makes a PATCH atomic, so
	// a failing operation leaves the resource as it was.
	attrs := deepCopy(s.users[i].attrs).(map[string]any)
	for _, op := range ops {
		if perr = applyOp(attrs, op, s.extensions()); perr != nil {
			break
		}
	}
	var body map[string]any
	if perr == nil {
		s.users[i].attrs = attrs
		s.users[i].version++
		s.users[i].modified = time.Now().UTC()
		body = s.render(s.users[i])
	}
	s.mu.Unlock()
	switch {
	case perr != nil:
		scimError(w, perr.status, perr.scimType, perr.detail)
	case noContent:
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusOK, body)
	}
}

// deleteUser removes the user: RFC 7644 §3.6 answers 204, and the
// resource is then not found.
func (s *Server) deleteUser(w http.ResponseWriter, id string) {
	if s.refused(w, id) {
		return
	}
	s.mu.Lock()
	i := s.find(id)
	if i >= 0 {
		s.users = slices.Delete(s.users, i, i+1)
		for _, g := range s.groups {
			g.members = slices.DeleteFunc(g.members, func(m string) bool { return m == id })
		}
	}
	s.mu.Unlock()
	if i < 0 {
		scimError(w, http.StatusNotFound, "", "Resource "+id+" not found.")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	attr, value, filtered, bad := filterOf(r)
	if bad || filtered && attr != "displayName" && attr != "id" {
		scimError(w, http.StatusBadRequest, "invalidFilter", "Only `displayName eq` and `id eq` filters are supported.")
		return
	}
	s.mu.Lock()
	res := []map[string]any{}
	for _, g := range s.groups {
		if filtered && !(attr == "displayName" && g.name == value || attr == "id" && g.id == value) {
			continue
		}
		res = append(res, s.renderGroup(g))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas": []string{ListResponseURN}, "totalResults": len(res), "startIndex": 1, "itemsPerPage": len(res), "Resources": res,
	})
}

func (s *Server) groupByID(id string) *group {
	for _, g := range s.groups {
		if g.id == id {
			return g
		}
	}
	return nil
}

func (s *Server) getGroup(w http.ResponseWriter, id string) {
	s.mu.Lock()
	g := s.groupByID(id)
	var body map[string]any
	if g != nil {
		body = s.renderGroup(g)
	}
	s.mu.Unlock()
	if g == nil {
		scimError(w, http.StatusNotFound, "", "Resource "+id+" not found.")
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// memberFilter is the path that removes one member (RFC 7644 §3.5.2.2's
// example: members[value eq "2819c223-…"]).
var memberFilter = regexp.MustCompile(`^members\[\s*value\s+eq\s+"([^"]*)"\s*\]$`)

// patchGroup adds and removes members (RFC 7644 §3.5.2.1, §3.5.2.2).
func (s *Server) patchGroup(w http.ResponseWriter, r *http.Request, id string) {
	ops, perr := readPatch(r)
	if perr != nil {
		scimError(w, perr.status, perr.scimType, perr.detail)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groupByID(id)
	if g == nil {
		scimError(w, http.StatusNotFound, "", "Resource "+id+" not found.")
		return
	}
	members := slices.Clone(g.members)
	for _, op := range ops {
		switch {
		case op.Op == "add" && op.Path == "members":
			var vals []struct {
				Value string `json:"value"`
			}
			if err := json.Unmarshal(op.Value, &vals); err != nil {
				scimError(w, http.StatusBadRequest, "invalidValue", "members must be a list of {value}.")
				return
			}
			for _, v := range vals {
				if s.find(v.Value) < 0 {
					scimError(w, http.StatusBadRequest, "invalidValue", "No user "+v.Value+".")
					return
				}
				if !slices.Contains(members, v.Value) {
					members = append(members, v.Value)
				}
			}
		case op.Op == "remove" && memberFilter.MatchString(op.Path):
			m := memberFilter.FindStringSubmatch(op.Path)[1]
			members = slices.DeleteFunc(members, func(x string) bool { return x == m })
		default:
			scimError(w, http.StatusBadRequest, "invalidPath", "Only adding members and removing members[value eq \"…\"] are supported on a Group.")
			return
		}
	}
	g.members = members
	g.version++
	writeJSON(w, http.StatusOK, s.renderGroup(g))
}

func readBody(r *http.Request) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r.Body, 1<<20))
}
