// Package oktatest is a local imitation of the Okta Management API, for
// tests and the demo: the endpoints idgraph reads, with Okta's pagination
// (two Link headers, after cursors, page-size defaults and maxima), its
// filters, rate-limit headers on every response, its error bodies, SSWS
// and OAuth 2.0 (private key JWT) authentication, the token owner and the
// admin roles of the token or service app (a group-scoped admin sees only
// its groups' users), app-user statuses and string-array role attributes,
// the okta-response Content-Type parameter, and switchable faults (rate
// and concurrency limits, failing, malformed or looping pages, DPoP
// required by the service app).
package oktatest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// User is an Okta user.
type User struct {
	ID             string    `json:"id"`
	Status         string    `json:"status"` // ACTIVE, DEPROVISIONED, ...
	Login          string    `json:"login"`
	Email          string    `json:"email"`
	SecondEmail    string    `json:"secondEmail,omitempty"`
	FirstName      string    `json:"firstName"`
	LastName       string    `json:"lastName"`
	DisplayName    string    `json:"displayName,omitempty"`
	EmployeeNumber string    `json:"employeeNumber,omitempty"`
	Created        time.Time `json:"created"`
	LastUpdated    time.Time `json:"lastUpdated"`
	StatusChanged  time.Time `json:"statusChanged"`
	LastLogin      time.Time `json:"lastLogin"`
}

// Group is an Okta group and its direct members (user IDs).
type Group struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Members []string `json:"members"`
	// MembershipUpdated is reported as lastMembershipUpdated; Update sets
	// it when the members change.
	MembershipUpdated time.Time `json:"membershipUpdated"`
}

// DirectAssignment assigns the app to one user (scope USER).
type DirectAssignment struct {
	UserID string `json:"userId"`
	Role   string `json:"role,omitempty"`
	// Roles makes the app-user profile's role attribute a string array,
	// as an app whose schema declares it an array of strings does.
	Roles  []string `json:"roles,omitempty"`
	Status string   `json:"status,omitempty"` // app-user status; default ACTIVE
}

// GroupAssignment assigns the app to a group. Lower priority numbers win
// when a user reaches the app through several groups, as in Okta.
type GroupAssignment struct {
	GroupID  string   `json:"groupId"`
	Priority int      `json:"priority"`
	Role     string   `json:"role,omitempty"`
	Roles    []string `json:"roles,omitempty"` // a string-array role attribute
}

// OAuthClient is a service app allowed to get tokens with a private key JWT.
type OAuthClient struct {
	ClientID  string
	PublicKey *rsa.PublicKey
	Scopes    []string // scopes the app was granted
	// Roles are the admin roles assigned to the service app (its "Admin
	// roles" tab). nil: Read-only Administrator.
	Roles []AdminRole
	// RequireDPoP is the app's "Require Demonstrating Proof of Possession
	// (DPoP) header in token requests" setting, which Okta turns on by
	// default for new API service apps.
	RequireDPoP bool
}

// Scenario is the org the simulator serves.
type Scenario struct {
	Token            string             `json:"token"` // the SSWS API token it accepts
	AppID            string             `json:"appId"`
	AppLabel         string             `json:"appLabel"`
	Users            []User             `json:"users"`
	Groups           []Group            `json:"groups"`
	Direct           []DirectAssignment `json:"direct"`
	GroupAssignments []GroupAssignment  `json:"groupAssignments"`
	OAuth            *OAuthClient       `json:"-"`
	// AppUserStatus overrides the app-user status of users (id -> status,
	// e.g. INACTIVE), whether assigned directly or through a group.
	AppUserStatus map[string]string `json:"appUserStatus,omitempty"`
	// TokenOwner is the admin user an SSWS API token acts as (Okta: the
	// admin who created it; GET /api/v1/users/me returns them). Empty: a
	// built-in owner, DefaultTokenOwner, who is not in the user lists.
	TokenOwner string `json:"tokenOwner,omitempty"`
	// AdminRoles are the token owner's admin roles. nil: Read-only
	// Administrator. A group-scoped role (USER_ADMIN, HELP_DESK_ADMIN,
	// GROUP_MEMBERSHIP_ADMIN with Targets) sees only its groups' members.
	AdminRoles []AdminRole `json:"adminRoles,omitempty"`
}

// Faults are failures the simulator can inject. The zero value is none.
type Faults struct {
	// RateLimit enforces this many requests per Window per endpoint family
	// (users, apps, groups), as Okta's org-wide limits do. 0: unlimited,
	// though the headers are still sent.
	RateLimit int
	Window    time.Duration // default one minute
	// Storm429 answers the next N requests with 429.
	Storm429 int
	// FailPath/FailPage make page FailPage (1-based) of requests whose path
	// starts with FailPath answer FailStatus (default 500), FailTimes times
	// (0: every time).
	FailPath   string
	FailPage   int
	FailStatus int
	FailTimes  int
	// MalformedPath/MalformedPage answer that page with broken JSON.
	MalformedPath string
	MalformedPage int
	// Slow delays every response.
	Slow time.Duration
	// Unauthorized answers every API call with 401 E0000011.
	Unauthorized bool
	// NoAdmin answers the users list with 200 [] (an API token of a user
	// without an admin role gets exactly that).
	NoAdmin bool
	// Forbidden answers paths with these prefixes with 403 E0000006.
	Forbidden []string
	// MaxConcurrent enforces Okta's concurrent rate limit: a request that
	// arrives while this many are unfinished is answered 429, and its
	// X-Rate-Limit-* headers carry the concurrency values (limit, 0
	// remaining, an estimated reset), as Okta documents in "Concurrency
	// limits" and "Rate limit best practices" (developer.okta.com/docs/
	// reference/rl2-concurrency, rl-best-practices). Okta's default for
	// Workforce orgs is 75; a free developer org has 15. 0: no limit.
	MaxConcurrent int
	// LoopPath/LoopPage make page LoopPage of lists whose path starts with
	// LoopPath carry a Link rel="next" that leads to the same page again:
	// a cursor that never advances.
	LoopPath string
	LoopPage int
	// LimitTimeout answers list requests asking for more than this many
	// items per page with 500 E0000009, as an Okta list that times out on
	// large pages does; Okta's advice is to retry with a smaller limit.
	LimitTimeout int
}

// Stats counts what the simulator served.
type Stats struct {
	Requests   map[string]int // by endpoint family and kind, e.g. "GET /api/v1/users"
	Total      int
	Status429  int
	Bytes      int64 // response bodies
	MaxPerPage map[string]int
	// MaxInFlight is the most requests that were unfinished at once.
	MaxInFlight int
	// OmittedCredentials counts user-list pages served without the
	// credentials object and links (Content-Type okta-response=...).
	OmittedCredentials int
}

// Server is a running simulator.
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	sc      *Scenario
	faults  Faults
	idx     *index
	buckets map[string]*bucket
	tokens  map[string][]string // access token -> scopes
	stats   Stats
	fails   int
	reqID   atomic.Int64
	now     func() time.Time

	inflight int // requests unfinished, under mu
}

type bucket struct {
	start time.Time
	used  int
}

// NewServer starts a simulator serving sc on 127.0.0.1.
func NewServer(sc *Scenario) *Server {
	s := NewUnstarted(sc)
	s.Start()
	return s
}

// NewUnstarted builds a simulator without starting it (for Handler use).
func NewUnstarted(sc *Scenario) *Server {
	s := &Server{sc: sc, buckets: map[string]*bucket{}, tokens: map[string][]string{}, now: time.Now}
	s.resetStats()
	s.idx = build(sc)
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	return s
}

// Scenario returns the scenario being served.
func (s *Server) Scenario() *Scenario {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sc
}

// SetFaults replaces the active faults.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.fails = 0
	s.buckets = map[string]*bucket{}
}

// Update changes the scenario while the server runs. Like Okta, it stamps
// lastUpdated on every user it changed and lastMembershipUpdated on every
// group whose members changed.
func (s *Server) Update(f func(*Scenario)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := map[string]string{}
	for _, u := range s.sc.Users {
		u.LastUpdated = time.Time{}
		before[u.ID] = fmt.Sprintf("%v", u)
	}
	members := map[string]string{}
	for _, g := range s.sc.Groups {
		members[g.ID] = strings.Join(g.Members, ",")
	}
	f(s.sc)
	now := s.now().UTC()
	for i := range s.sc.Users {
		u := s.sc.Users[i]
		lu := u.LastUpdated
		u.LastUpdated = time.Time{}
		if before[u.ID] != fmt.Sprintf("%v", u) && !lu.After(now.Add(-time.Second)) {
			s.sc.Users[i].LastUpdated = now
		}
	}
	for i := range s.sc.Groups {
		if g := &s.sc.Groups[i]; members[g.ID] != strings.Join(g.Members, ",") {
			g.MembershipUpdated = now
		}
	}
	s.idx = build(s.sc)
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.stats
	c.Requests, c.MaxPerPage = maps.Clone(s.stats.Requests), maps.Clone(s.stats.MaxPerPage)
	return c
}

// ResetStats zeroes the counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetStats()
}

func (s *Server) resetStats() {
	s.stats = Stats{Requests: map[string]int{}, MaxPerPage: map[string]int{}}
}

// index holds pre-rendered JSON so that large scenarios serve fast.
type index struct {
	users      []User
	userJSON   [][]byte
	byID       map[string]int
	groups     map[string]*Group
	groupJSON  map[string][]byte
	appUsers   []appUser
	appGroups  []GroupAssignment
	groupUsers map[string][]int // group -> sorted user indexes

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
	ix.appGroups = slices.Clone(sc.GroupAssignments)
	sort.Slice(ix.appGroups, func(i, j int) bool { return ix.appGroups[i].GroupID < ix.appGroups[j].GroupID })
	// Okta lists every user who can use the app: direct assignments (scope
	// USER) and members of assigned groups (scope GROUP), with the role of
	// the direct assignment or else of the highest-priority group.
	type res struct {
		scope, stat string
		role        any
		prio        int
	}
	resolved := map[int]*res{}
	for _, d := range sc.Direct {
		if k, ok := ix.byID[d.UserID]; ok {
			st := d.Status
			if st == "" {
				st = "ACTIVE"
			}
			resolved[k] = &res{"USER", st, roleValue(d.Role, d.Roles), -1}
		}
	}
	for _, ga := range sc.GroupAssignments {
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
		if st, ok := sc.AppUserStatus[ix.users[k].ID]; ok {
			r.stat = st
		}
		au := appUser{user: k, scope: r.scope, role: r.role, stat: r.stat}
		au.json = appUserJSON(ix.users[k], au)
		ix.appUsers = append(ix.appUsers, au)
	}
	sort.Slice(ix.appUsers, func(i, j int) bool { return ix.appUsers[i].user < ix.appUsers[j].user })
	return ix
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

func family(path string) string {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 4)
	if len(parts) >= 3 {
		return "/" + strings.Join(parts[:3], "/")
	}
	return path
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Okta-Request-Id", fmt.Sprintf("sim-%d", s.reqID.Add(1)))
	s.mu.Lock()
	s.inflight++
	s.stats.MaxInFlight = max(s.stats.MaxInFlight, s.inflight)
	inflight := s.inflight
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inflight--
		s.mu.Unlock()
	}()
	if r.URL.Path == "/oauth2/v1/token" {
		s.token(w, r)
		return
	}
	s.mu.Lock()
	f := s.faults
	ix := s.idx
	fam := family(r.URL.Path)
	s.stats.Requests[r.Method+" "+endpointName(r.URL.Path)]++
	s.stats.Total++
	// Rate-limit accounting, with the headers on every response.
	limit, remaining, reset := 10000, 9999, s.now().Add(time.Minute)
	limited := false
	if f.RateLimit > 0 {
		win := f.Window
		if win <= 0 {
			win = time.Minute
		}
		b := s.buckets[fam]
		now := s.now()
		if b == nil || !now.Before(b.start.Add(win)) {
			// Windows are fixed clock intervals (a minute starts on the
			// minute), so the reset reported in whole seconds is exact.
			b = &bucket{start: now.Truncate(win)}
			s.buckets[fam] = b
		}
		b.used++
		limit, remaining, reset = f.RateLimit, max(f.RateLimit-b.used, 0), b.start.Add(win)
		limited = b.used > f.RateLimit
	}
	if s.faults.Storm429 > 0 {
		s.faults.Storm429--
		limited = true
		remaining = 0
		if f.RateLimit == 0 {
			reset = s.now().Add(time.Second)
		}
	}
	if f.MaxConcurrent > 0 && inflight > f.MaxConcurrent {
		// "Instead of the accumulated counts for time-based rate limits,
		// when a request exceeds the limit for concurrent requests,
		// X-Rate-Limit-Limit, X-Rate-Limit-Remaining, and
		// X-Rate-Limit-Reset report the concurrent values", and the reset
		// "is only an estimate" (Okta, Rate limit best practices).
		limited = true
		limit, remaining, reset = f.MaxConcurrent, 0, s.now().Add(time.Second)
	}
	if limited {
		s.stats.Status429++
	}
	s.mu.Unlock()
	h := w.Header()
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	// Okta reports the reset in whole epoch seconds; round up so that a
	// client that waits until then really is in the next window.
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt((reset.UnixNano()+int64(time.Second)-1)/int64(time.Second), 10))
	h.Set("Date", s.now().UTC().Format(http.TimeFormat))

	if f.Slow > 0 {
		select {
		case <-time.After(f.Slow):
		case <-r.Context().Done():
			return
		}
	}
	if limited {
		okErr(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
		return
	}
	c, ok := s.authorize(r, f)
	if !ok {
		if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			// Okta's resource server names the reason of a refused bearer
			// token in the challenge (RFC 6750 section 3): error="invalid_token".
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization_uri="http://%s/oauth2/v1/authorize", realm="IdpEndpoint", scope="%s", error="invalid_token", error_description="The token is not valid as it was issued by a different server or has expired.", resource="%s"`, r.Host, requiredScope(r.URL.Path), r.URL.Path))
		}
		okErr(w, http.StatusUnauthorized, "E0000011", "Invalid token provided")
		return
	}
	need := requiredScope(r.URL.Path)
	for _, p := range f.Forbidden {
		if strings.HasPrefix(r.URL.Path, p) {
			okErr(w, http.StatusForbidden, "E0000006", "You do not have permission to perform the requested action")
			return
		}
	}
	if c.scopes != nil && !slices.Contains(c.scopes, need) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization_uri="http://%s/oauth2/v1/authorize", realm="IdpEndpoint", scope="%s", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="%s"`, r.Host, need, r.URL.Path))
		okErr(w, http.StatusForbidden, "E0000006", "You do not have permission to perform the requested action")
		return
	}
	if r.Method != http.MethodGet {
		okErr(w, http.StatusMethodNotAllowed, "E0000022", "The endpoint does not support the provided HTTP method")
		return
	}
	if s.adminRoute(w, r, ix, c, f) {
		return
	}
	s.route(w, r, ix, f, c.view(ix))
}

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
		if parts[3] != s.sc.AppID {
			okErr(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+parts[3]+" (AppInstance)")
			return
		}
		items := ix.list("app users", func() []page {
			items := make([]page, len(ix.appUsers))
			for i, au := range ix.appUsers {
				items[i] = page{ix.users[au.user].ID, au.json}
			}
			return items
		})
		s.paginate(w, r, v.filter(ix, items), 50, 500, f)
	case len(parts) == 5 && parts[2] == "apps" && parts[4] == "groups":
		if parts[3] != s.sc.AppID {
			okErr(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+parts[3]+" (AppInstance)")
			return
		}
		items := make([]page, len(ix.appGroups))
		for i, g := range ix.appGroups {
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

func (s *Server) write(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
	s.mu.Lock()
	s.stats.Bytes += int64(len(body))
	s.mu.Unlock()
}
