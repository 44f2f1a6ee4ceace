// Package scimtest is a local SCIM 2.0 service provider (RFC 7643, RFC
// 7644), for tests and the demo: ServiceProviderConfig, /Users with
// startIndex/count paging in ListResponses, /Users/{id} with GET, PATCH and
// DELETE, /Groups with a displayName filter and member PATCH, /Me, SCIM
// error bodies, bearer-token authentication, and switchable faults (capped
// or ignored counts, repeated pages, drifting totals, 429 and 503 with
// Retry-After, failing pages, bodies that are not SCIM, refused or expired
// tokens, refused writes, latency). State persists across requests: a
// PATCH shows on the next read.
//
// Why not github.com/elimity-com/scim as the core: it was evaluated
// (v0.0.0-20260728105928-2641426a1539, the module proxy lists no tagged
// release). Its list handler answers itemsPerPage with the count asked,
// not the number of resources returned (RFC 7644 §3.4.2 defines it as the
// latter), so a short last page misstates itself; it answers /Me with 501
// unconditionally, while idgraph must learn the token's own account; it
// leaves applying PATCH operations to the resource handler, so the
// semantics of §3.5.2 would be written here anyway; and every fault this
// package injects has to shape the raw HTTP answer around it. What remained
// for the library (routing and schema validation) did not justify a
// pre-release dependency with two transitive ones.
package scimtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// BasePath is where the service provider's endpoints live under the
// server's address, as real applications put them (…/scim/v2).
const BasePath = "/scim/v2"

// Request is one request the simulator received.
type Request struct {
	Method string
	Path   string // below BasePath, e.g. /Users/u-ada
	Query  string
}

// Server is a running simulator.
type Server struct {
	// URL is the SCIM base URL (the server's address and BasePath).
	URL string
	// Token is the bearer token it accepts.
	Token string

	ts *httptest.Server
	sc Scenario

	mu       sync.Mutex
	users    []*resource
	groups   []*group
	faults   Faults
	used     struct{ rate, unavail, fail int }
	log      []Request
	requests int // since the last SetFaults
	nextID   int
}

type resource struct {
	attrs    map[string]any // the resource's own attributes, as JSON decodes them
	version  int
	created  time.Time
	modified time.Time
}

type group struct {
	id, name string
	members  []string // user ids
	version  int
}

// New starts a simulator serving sc on 127.0.0.1. sc is copied: later
// changes go through the server's controls.
func New(sc *Scenario) *Server {
	s := &Server{sc: *sc}
	if s.sc.Token == "" {
		s.sc.Token = "scim-test-token"
	}
	if s.sc.MaxResults <= 0 {
		s.sc.MaxResults = 100
	}
	s.Token = s.sc.Token
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for _, name := range s.sc.Groups {
		s.groupNamed(name)
	}
	for _, u := range sc.Users {
		s.addUser(u, now)
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.ts.URL + BasePath
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.ts.Close() }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.ts.Client() }

func (s *Server) addUser(u User, now time.Time) {
	b, err := json.Marshal(u)
	if err != nil {
		panic(err)
	}
	attrs := map[string]any{}
	if err := json.Unmarshal(b, &attrs); err != nil {
		panic(err)
	}
	delete(attrs, "id")
	if u.ID == "" {
		s.nextID++
		u.ID = fmt.Sprintf("u-%04d", s.nextID)
	}
	attrs["id"] = u.ID
	s.users = append(s.users, &resource{attrs: attrs, version: 1, created: now, modified: now})
	for _, g := range u.Groups {
		gr := s.groupNamed(g)
		if !slices.Contains(gr.members, u.ID) {
			gr.members = append(gr.members, u.ID)
		}
	}
}

func (s *Server) groupNamed(name string) *group {
	for _, g := range s.groups {
		if g.name == name {
			return g
		}
	}
	g := &group{id: "g-" + strings.ToLower(strings.ReplaceAll(name, " ", "-")), name: name, version: 1}
	s.groups = append(s.groups, g)
	return g
}

// SetFaults replaces the active faults and restarts their counters (the
// requests ExpireAfter counts, the times a page fault has fired).
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.used = struct{ rate, unavail, fail int }{}
	s.requests = 0
}

// AddUser creates a user while the server runs (someone joined the app).
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUser(u, time.Now().UTC())
}

// Update changes one user while the server runs, as an administrator
// would in the application. It reports whether the user exists.
func (s *Server) Update(id string, f func(*User)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(id)
	if i < 0 {
		return false
	}
	u := s.typed(s.users[i])
	f(&u)
	b, _ := json.Marshal(u)
	attrs := map[string]any{}
	json.Unmarshal(b, &attrs)
	attrs["id"] = id
	s.users[i].attrs = attrs
	s.users[i].version++
	s.users[i].modified = time.Now().UTC()
	for _, g := range s.groups {
		g.members = slices.DeleteFunc(g.members, func(m string) bool { return m == id })
	}
	for _, name := range u.Groups {
		g := s.groupNamed(name)
		g.members = append(g.members, id)
	}
	return true
}

// User returns a user as the server holds it now.
func (s *Server) User(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(id)
	if i < 0 {
		return User{}, false
	}
	return s.typed(s.users[i]), true
}

// Users returns every user, in the order the server lists them.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, 0, len(s.users))
	for _, r := range s.users {
		out = append(out, s.typed(r))
	}
	return out
}

// Resource returns the JSON the server serves for a user now.
func (s *Server) Resource(id string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(id)
	if i < 0 {
		return nil, false
	}
	b, _ := json.Marshal(s.render(s.users[i]))
	return b, true
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// Writes returns the PATCH, PUT, POST and DELETE requests received.
func (s *Server) Writes() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Method != http.MethodGet {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) find(id string) int {
	for i, r := range s.users {
		if r.attrs["id"] == id {
			return i
		}
	}
	return -1
}

func (s *Server) typed(r *resource) User {
	b, _ := json.Marshal(r.attrs)
	var u User
	json.Unmarshal(b, &u)
	id, _ := r.attrs["id"].(string)
	for _, g := range s.groups {
		if slices.Contains(g.members, id) {
			u.Groups = append(u.Groups, g.name)
		}
	}
	return u
}

// render is the resource as served: its attributes, schemas, the
// read-only groups and meta (RFC 7643 §3.1).
func (s *Server) render(r *resource) map[string]any {
	out := make(map[string]any, len(r.attrs)+3)
	for k, v := range r.attrs {
		out[k] = v
	}
	id, _ := r.attrs["id"].(string)
	schemas := []string{UserSchema}
	for _, ext := range s.extensions() {
		if _, ok := r.attrs[ext]; ok {
			schemas = append(schemas, ext)
		}
	}
	out["schemas"] = schemas
	var groups []map[string]any
	for _, g := range s.groups {
		if slices.Contains(g.members, id) {
			groups = append(groups, map[string]any{"value": g.id, "$ref": s.URL + "/Groups/" + g.id, "display": g.name, "type": "direct"})
		}
	}
	if groups != nil {
		out["groups"] = groups
	}
	out["meta"] = map[string]any{
		"resourceType": "User",
		"created":      r.created.Format(time.RFC3339),
		"lastModified": r.modified.Format(time.RFC3339),
		"location":     s.URL + "/Users/" + id,
		"version":      fmt.Sprintf(`W/"%d"`, r.version),
	}
	return out
}

func (s *Server) renderGroup(g *group) map[string]any {
	members := []map[string]any{}
	for _, m := range g.members {
		members = append(members, map[string]any{"value": m, "$ref": s.URL + "/Users/" + m, "type": "User"})
	}
	return map[string]any{
		"schemas":     []string{GroupSchema},
		"id":          g.id,
		"displayName": g.name,
		"members":     members,
		"meta": map[string]any{"resourceType": "Group", "location": s.URL + "/Groups/" + g.id,
			"version": fmt.Sprintf(`W/"%d"`, g.version)},
	}
}

func (s *Server) extensions() []string {
	return append([]string{EnterpriseSchema}, s.sc.Extensions...)
}

// scimError writes an RFC 7644 §3.12 error response.
func scimError(w http.ResponseWriter, status int, scimType, detail string) {
	body := map[string]any{"schemas": []string{ErrorURN}, "status": fmt.Sprint(status), "detail": detail}
	if scimType != "" {
		body["scimType"] = scimType
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// RFC 7644 §8.1: SCIM messages use the media type application/scim+json.
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	w.Write(b)
}
