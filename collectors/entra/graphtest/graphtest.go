// Package graphtest is a local imitation of Microsoft Graph v1.0 and the
// Microsoft identity platform's token endpoint, for tests and the demo. It
// serves TLS like the real services (azidentity refuses an authority
// without https), issues client-credentials tokens carrying application
// permissions, and serves the endpoints idgraph reads with Graph's paging
// ($top default 100, maximum 999, absolute @odata.nextLink), $select with
// the default property set without it, users/delta() with delta tokens
// that later return only changes, Graph's error bodies, and switchable
// faults (Faults) and tenant variants (Variant).
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
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// User is an Entra ID user.
type User struct {
	ID                string   `json:"id"`
	DisplayName       string   `json:"displayName"`
	GivenName         string   `json:"givenName,omitempty"`
	Surname           string   `json:"surname,omitempty"`
	UserPrincipalName string   `json:"userPrincipalName"`
	Mail              string   `json:"mail,omitempty"`
	OtherMails        []string `json:"otherMails,omitempty"`
	ProxyAddresses    []string `json:"proxyAddresses,omitempty"`
	AccountEnabled    bool     `json:"accountEnabled"`
	UserType          string   `json:"userType,omitempty"` // Member or Guest
	EmployeeID        string   `json:"employeeId,omitempty"`
	JobTitle          string   `json:"jobTitle,omitempty"`
}

// Group is a security group; Members holds user and group ids (direct).
type Group struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"displayName"`
	Members     []string `json:"members"`
}

// AppRole is one role the enterprise app defines.
type AppRole struct {
	ID          string `json:"id"`
	Value       string `json:"value"`
	DisplayName string `json:"displayName"`
}

// Assignment is an appRoleAssignment to the app's service principal.
type Assignment struct {
	PrincipalID string `json:"principalId"`
	AppRoleID   string `json:"appRoleId"` // DefaultAccess for the default-access role
}

// DefaultAccess is the app role id of an assignment without a role.
const DefaultAccess = "00000000-0000-0000-0000-000000000000"

// Permissions an app can be granted (application permissions).
const (
	UserReadAll        = "User.Read.All"
	ApplicationReadAll = "Application.Read.All"
	GroupMemberReadAll = "GroupMember.Read.All"
)

// Scenario is the tenant the simulator serves.
type Scenario struct {
	TenantID     string       `json:"tenantId"`
	ClientID     string       `json:"clientId"`
	ClientSecret string       `json:"clientSecret"`
	Permissions  []string     `json:"permissions"` // granted with admin consent
	SPID         string       `json:"servicePrincipalId"`
	AppID        string       `json:"appId"`
	AppName      string       `json:"appName"`
	AppRoles     []AppRole    `json:"appRoles"`
	Assignments  []Assignment `json:"assignments"`
	Users        []User       `json:"users"`
	Groups       []Group      `json:"groups"`
}

// Faults are failures the simulator can inject. The zero value is none.
//
// Throttling follows Microsoft Graph's throttling guidance and error
// reference (learn.microsoft.com/graph/throttling, /graph/errors): a 429
// carries Retry-After; 503 "may" carry it, and 504 may come with 503.
// NoRetryAfter leaves the header out, after which a client is to back off
// exponentially.
type Faults struct {
	Status429      int           // the next N Graph requests answer 429 with Retry-After
	Status503      int           // the next N Graph requests answer 503 with Retry-After
	Status504      int           // the next N Graph requests answer 504 with Retry-After
	RetryAfter     int           // seconds; default 1
	NoRetryAfter   bool          // throttled answers carry no Retry-After header
	FailPath       string        // with FailPage: page FailPage (1-based) of that path prefix answers 500
	FailPage       int           //
	MalformedPath  string        // with MalformedPage: that page is cut in half
	MalformedPage  int           //
	Slow           time.Duration // every Graph response waits this long
	ExpireDelta    bool          // every delta token is expired (syncStateNotFound)
	DeltaGone      bool          // every tracked delta request answers 410 Gone, Location, no body
	DeltaErrorCode string        // every tracked delta request answers 400 with this error code (e.g. resyncRequired)
	// RepeatPath, RepeatPage: page RepeatPage (1-based) of every list under
	// that path prefix carries an @odata.nextLink back to itself, a paging
	// cycle. With RepeatFresh each repetition carries a new, different
	// token for the same page, so only its contents show the cycle.
	RepeatPath      string
	RepeatPage      int
	RepeatFresh     bool
	Unauthorized    bool     // Graph answers 401 to every request
	DropPermissions []string // tokens lack these permissions (403 on the endpoints that need them)
}

// Variant is how a tenant is set up where Entra allows several ways. The
// zero value is the cautious tenant: assignment required, app enabled.
type Variant struct {
	// AssignmentNotRequired sets the service principal's
	// appRoleAssignmentRequired to false, Entra's default for many
	// enterprise apps ("Specifies whether users ... need to be granted an
	// app role assignment ... before users can sign in ... The default value
	// is false", servicePrincipal resource type): every enabled user can
	// then sign in.
	AssignmentNotRequired bool
	// ServicePrincipalDisabled sets the service principal's accountEnabled
	// to false: "no users are able to sign in to this app, even if they're
	// assigned to it" (servicePrincipal resource type).
	ServicePrincipalDisabled bool
	// PartialDeltaItems makes every tracked delta item carry only id and the
	// changed properties, as with Prefer: return=minimal, whatever the
	// client asks (the overview promises only "at least the properties that
	// have been updated").
	PartialDeltaItems bool
}

// Stats counts what the simulator served.
type Stats struct {
	Requests        map[string]int // by method and endpoint, e.g. "GET /v1.0/users"
	Total           int
	Unauthenticated int // Graph requests that came without a bearer token
	Tokens          int
	Bytes           map[string]int64 // response bytes by endpoint
	Selects         map[string]string
}

// Server is a running simulator.
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	sc      *Scenario
	faults  Faults
	tokens  map[string][]string // access token -> permissions
	stats   Stats
	variant Variant
	seq     int64                       // change sequence
	created map[string]int64            // user id -> sequence of its creation (or restore); absent: from the start
	propVer map[string]map[string]int64 // user id -> property -> sequence of its last change
	gone    map[string]removal          // removed user id -> when and why
	deleted map[string]User             // soft-deleted users, restorable
	minSeq  int64                       // delta tokens older than this are expired
	pages   map[string]int              // page counter per path, for FailPage
	byID    map[string]int              // user id -> index in sc.Users
	// members memoises a group's (transitive) members by path, resolved
	// once instead of for every page; reindex clears it, since every
	// change of users or groups goes through it.
	members map[string][]string
}

// reindex rebuilds the user index; callers hold mu.
func (s *Server) reindex() {
	s.members = map[string][]string{}
	s.byID = make(map[string]int, len(s.sc.Users))
	for i := range s.sc.Users {
		s.byID[s.sc.Users[i].ID] = i
	}
}

// NewServer starts a simulator with TLS on 127.0.0.1.
func NewServer(sc *Scenario) *Server {
	s := NewUnstarted(sc)
	s.StartTLS()
	return s
}

// NewUnstarted builds a simulator without starting it.
func NewUnstarted(sc *Scenario) *Server {
	s := &Server{sc: sc, tokens: map[string][]string{}, created: map[string]int64{}, propVer: map[string]map[string]int64{},
		gone: map[string]removal{}, deleted: map[string]User{}, pages: map[string]int{}}
	s.resetStats()
	s.reindex()
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	return s
}

// TokenURL is the token endpoint of the scenario's tenant.
func (s *Server) TokenURL() string { return s.URL + "/" + s.sc.TenantID + "/oauth2/v2.0/token" }

// GraphURL is the Graph v1.0 base URL.
func (s *Server) GraphURL() string { return s.URL + "/v1.0" }

// Scenario returns the scenario being served.
func (s *Server) Scenario() *Scenario { return s.sc }

// WriteCA writes the simulator's TLS certificate as PEM into dir and
// returns the file, for a client's ca_file.
func (s *Server) WriteCA(dir string) (string, error) {
	p := filepath.Join(dir, "graphtest-ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	return p, os.WriteFile(p, b, 0o600)
}

// SetFaults replaces the active faults.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.pages = map[string]int{}
}

// SetVariant replaces the tenant variant.
func (s *Server) SetVariant(v Variant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.variant = v
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.stats
	c.Requests, c.Bytes, c.Selects = maps.Clone(s.stats.Requests), maps.Clone(s.stats.Bytes), maps.Clone(s.stats.Selects)
	return c
}

// ResetStats zeroes the counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetStats()
}

func (s *Server) resetStats() {
	s.stats = Stats{Requests: map[string]int{}, Bytes: map[string]int64{}, Selects: map[string]string{}}
}

type removal struct {
	seq    int64
	reason string // "changed" (in deleted items) or "deleted" (permanently)
}

// ChangeUser edits a user; delta queries report the properties it changed.
func (s *Server) ChangeUser(id string, f func(*User)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[id]
	if !ok {
		panic("graphtest: no user " + id)
	}
	before := userMap(&s.sc.Users[i])
	f(&s.sc.Users[i])
	after := userMap(&s.sc.Users[i])
	s.seq++
	for k, v := range after {
		if fmt.Sprint(before[k]) != fmt.Sprint(v) {
			if s.propVer[id] == nil {
				s.propVer[id] = map[string]int64{}
			}
			s.propVer[id][k] = s.seq
		}
	}
}

// AddUser adds a user; delta queries report it in full.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sc.Users = append(s.sc.Users, u)
	s.reindex()
	s.seq++
	s.created[u.ID] = s.seq
	delete(s.gone, u.ID)
}

// DeleteUser deletes a user as Entra does: it moves to deleted items,
// restorable for 30 days; delta queries report it with
// "@removed": {"reason": "changed"}.
func (s *Server) DeleteUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.byID[id]; ok {
		s.deleted[id] = s.sc.Users[i]
	}
	s.remove(id, "changed")
}

// PurgeUser deletes a user permanently (or purges it from deleted items);
// delta queries report it with "@removed": {"reason": "deleted"}.
func (s *Server) PurgeUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.deleted, id)
	s.remove(id, "deleted")
}

// RestoreUser brings a soft-deleted user back; delta queries report it in
// full.
func (s *Server) RestoreUser(id string) {
	s.mu.Lock()
	u, ok := s.deleted[id]
	delete(s.deleted, id)
	s.mu.Unlock()
	if !ok {
		panic("graphtest: no deleted user " + id)
	}
	s.AddUser(u)
}

// remove takes a user out of the directory; callers hold mu.
func (s *Server) remove(id, reason string) {
	s.sc.Users = slices.DeleteFunc(s.sc.Users, func(u User) bool { return u.ID == id })
	s.reindex()
	s.seq++
	s.gone[id] = removal{seq: s.seq, reason: reason}
	delete(s.propVer, id)
	delete(s.created, id)
}

// Update edits the scenario's app data (assignments, groups) in place.
func (s *Server) Update(f func(*Scenario)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.sc)
	s.reindex()
}

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

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, "/v2.0/.well-known/openid-configuration"):
		s.openid(w, r)
		return
	case strings.HasSuffix(p, "/oauth2/v2.0/token"):
		s.token(w, r)
		return
	case !strings.HasPrefix(p, "/v1.0/"):
		graphErr(w, http.StatusNotFound, "BadRequest", "Resource not found for the segment '"+p+"'.")
		return
	}
	ep := endpoint(p)
	s.mu.Lock()
	f := s.faults
	s.stats.Requests[r.Method+" "+ep]++
	s.stats.Total++
	perms, authed := s.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		s.stats.Unauthenticated++
		authed = false
	}
	if sel := r.URL.Query().Get("$select"); sel != "" {
		s.stats.Selects[ep] = sel
	}
	throttle := 0
	switch {
	case s.faults.Status429 > 0:
		s.faults.Status429--
		throttle = http.StatusTooManyRequests
	case s.faults.Status503 > 0:
		s.faults.Status503--
		throttle = http.StatusServiceUnavailable
	case s.faults.Status504 > 0:
		s.faults.Status504--
		throttle = http.StatusGatewayTimeout
	}
	s.mu.Unlock()
	w.Header().Set("request-id", requestID())
	if f.Slow > 0 {
		select {
		case <-time.After(f.Slow):
		case <-r.Context().Done():
			return
		}
	}
	if throttle != 0 {
		ra := f.RetryAfter
		if ra == 0 {
			ra = 1
		}
		if !f.NoRetryAfter {
			w.Header().Set("Retry-After", strconv.Itoa(ra))
		}
		switch throttle {
		case http.StatusTooManyRequests:
			graphErr(w, throttle, "TooManyRequests", "Too many requests.")
		case http.StatusGatewayTimeout:
			graphErr(w, throttle, "UnknownError", "The gateway did not receive a timely response.")
		default:
			graphErr(w, throttle, "serviceNotAvailable", "The service is temporarily unavailable.")
		}
		return
	}
	if !authed || f.Unauthorized {
		msg := "Access token validation failure. Invalid audience."
		if r.Header.Get("Authorization") == "" {
			msg = "Access token is empty."
		}
		graphErr(w, http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
		return
	}
	if need := permission(ep); need != "" && !slices.Contains(perms, need) && !slices.Contains(perms, "Directory.Read.All") {
		graphErr(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return
	}
	if r.Method != http.MethodGet {
		graphErr(w, http.StatusMethodNotAllowed, "Request_BadRequest", "Method not allowed.")
		return
	}
	s.route(w, r, ep, f)
}

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

func (s *Server) openid(w http.ResponseWriter, r *http.Request) {
	tenant := strings.Split(strings.Trim(r.URL.Path, "/"), "/")[0]
	base := "https://" + r.Host + "/" + tenant
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"token_endpoint": base + "/oauth2/v2.0/token", "authorization_endpoint": base + "/oauth2/v2.0/authorize",
		"issuer": base + "/v2.0", "jwks_uri": base + "/discovery/v2.0/keys", "token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_types_supported": []string{"code", "id_token", "code id_token", "id_token token"}, "tenant_region_scope": "EU",
	})
}

// token implements the client credentials grant with a client secret.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	aadErr := func(status int, code string, n int, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"error": code, "error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Timestamp: %s", n, desc, requestID(), time.Now().UTC().Format("2006-01-02 15:04:05Z")),
			"error_codes": []int{n}, "timestamp": time.Now().UTC().Format("2006-01-02 15:04:05Z"), "trace_id": requestID(), "correlation_id": requestID()})
	}
	tenant := strings.Split(strings.Trim(r.URL.Path, "/"), "/")[0]
	r.ParseForm()
	id, secret := r.Form.Get("client_id"), r.Form.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, secret = u, p
	}
	switch {
	case r.Method != http.MethodPost:
		aadErr(http.StatusBadRequest, "invalid_request", 900561, "The endpoint only accepts POST requests.")
	case tenant != s.sc.TenantID:
		aadErr(http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found.", tenant))
	case r.Form.Get("grant_type") != "client_credentials":
		aadErr(http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
	case id != s.sc.ClientID:
		aadErr(http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory.", id))
	case secret != s.sc.ClientSecret || secret == "":
		aadErr(http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
	case !clientCredentialScope(r.Form.Get("scope")):
		aadErr(http.StatusBadRequest, "invalid_scope", 1002012, "The provided value for scope "+r.Form.Get("scope")+" is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.")
	default:
		s.mu.Lock()
		perms := slices.DeleteFunc(slices.Clone(s.sc.Permissions), func(p string) bool { return slices.Contains(s.faults.DropPermissions, p) })
		claims, _ := json.Marshal(map[string]any{"aud": "https://graph.microsoft.com", "tid": tenant, "appid": id, "roles": perms})
		tok := base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"RS256"}`)) + "." + base64.RawURLEncoding.EncodeToString(claims) + "." + requestID()
		s.tokens[tok] = perms
		s.stats.Tokens++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok})
	}
}

// clientCredentialScope accepts one resource scope ending in /.default,
// plus the OpenID scopes MSAL adds to every request, which the identity
// platform ignores for the client credentials grant.
func clientCredentialScope(scope string) bool {
	n := 0
	for _, s := range strings.Fields(scope) {
		switch {
		case s == "openid" || s == "offline_access" || s == "profile":
		case strings.HasSuffix(s, "/.default"):
			n++
		default:
			return false
		}
	}
	return n == 1
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
		"businessPhones": []string{}, "mobilePhone": nil, "officeLocation": nil, "preferredLanguage": nil}
}

// project keeps the $select'ed properties, or the default set.
func project(m map[string]any, sel []string, def []string) map[string]any {
	keep := def
	if len(sel) > 0 {
		keep = append(sel, "id")
	}
	out := map[string]any{}
	for _, k := range keep {
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

func (s *Server) route(w http.ResponseWriter, r *http.Request, ep string, f Faults) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")[1:]
	sel := selectList(r)
	switch {
	case ep == "/v1.0/users":
		s.mu.Lock()
		users := s.sc.Users
		s.mu.Unlock()
		s.pageOf(w, r, ep, len(users), func(i int) map[string]any { return project(userMap(&users[i]), sel, defaultUserProps) }, "users", f)
	case ep == "/v1.0/users/delta()" || ep == "/v1.0/users/delta":
		s.delta(w, r, ep, sel, f)
	case len(parts) == 2 && parts[0] == "users":
		s.mu.Lock()
		u := s.user(parts[1])
		var m map[string]any
		if u != nil {
			m = project(userMap(u), sel, defaultUserProps)
		}
		s.mu.Unlock()
		if m == nil {
			graphErr(w, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", parts[1]))
			return
		}
		m["@odata.context"] = s.base(r) + "/v1.0/$metadata#users/$entity"
		s.writeJSON(w, ep, m)
	case len(parts) == 2 && parts[0] == "servicePrincipals":
		if parts[1] != s.sc.SPID {
			graphErr(w, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", parts[1]))
			return
		}
		roles := []map[string]any{}
		for _, ar := range s.sc.AppRoles {
			roles = append(roles, map[string]any{"allowedMemberTypes": []string{"User"}, "description": ar.DisplayName, "displayName": ar.DisplayName,
				"id": ar.ID, "isEnabled": true, "origin": "Application", "value": ar.Value})
		}
		s.mu.Lock()
		v := s.variant
		s.mu.Unlock()
		m := map[string]any{"id": s.sc.SPID, "appId": s.sc.AppID, "displayName": s.sc.AppName, "appRoleAssignmentRequired": !v.AssignmentNotRequired,
			"appRoles": roles, "accountEnabled": !v.ServicePrincipalDisabled, "servicePrincipalType": "Application", "tags": []string{"WindowsAzureActiveDirectoryIntegratedApp"}}
		m = project(m, sel, []string{"id", "appId", "displayName", "appRoles", "accountEnabled", "servicePrincipalType", "tags", "appRoleAssignmentRequired"})
		m["@odata.context"] = s.base(r) + "/v1.0/$metadata#servicePrincipals/$entity"
		s.writeJSON(w, ep, m)
	case len(parts) == 3 && parts[0] == "servicePrincipals" && parts[2] == "appRoleAssignedTo":
		if parts[1] != s.sc.SPID {
			graphErr(w, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist.", parts[1]))
			return
		}
		s.mu.Lock()
		var items []map[string]any
		for i, a := range s.sc.Assignments {
			name, typ := s.principal(a.PrincipalID)
			items = append(items, map[string]any{"id": fmt.Sprintf("asg%04d-%s", i, a.PrincipalID[:8]), "deletedDateTime": nil, "appRoleId": a.AppRoleID,
				"createdDateTime": "2025-01-01T00:00:00Z", "principalDisplayName": name, "principalId": a.PrincipalID, "principalType": typ,
				"resourceDisplayName": s.sc.AppName, "resourceId": s.sc.SPID})
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

// repeat returns the @odata.nextLink of a page caught in the RepeatPath
// cycle: the page's own link (link("")) or, with RepeatFresh, the same
// page under a token that differs every time.
func (s *Server) repeat(r *http.Request, page int, f Faults, link func(nonce string) string) (string, bool) {
	if f.RepeatPage == 0 || page != f.RepeatPage || !strings.HasPrefix(r.URL.Path, f.RepeatPath) {
		return "", false
	}
	if f.RepeatFresh {
		return link("." + requestID()[:8]), true
	}
	return link(""), true
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

func (s *Server) fail(w http.ResponseWriter, r *http.Request, ep string, page int, f Faults) bool {
	if f.FailPage > 0 && page == f.FailPage && strings.HasPrefix(r.URL.Path, f.FailPath) {
		graphErr(w, http.StatusInternalServerError, "generalException", "An unexpected error occurred.")
		return true
	}
	return false
}

func (s *Server) writePage(w http.ResponseWriter, r *http.Request, ep string, body map[string]any, page int, f Faults) {
	b, _ := json.Marshal(body)
	if f.MalformedPage > 0 && page == f.MalformedPage && strings.HasPrefix(r.URL.Path, f.MalformedPath) {
		b = b[:len(b)/2]
	}
	s.send(w, ep, b)
}

func (s *Server) writeJSON(w http.ResponseWriter, ep string, v any) {
	b, _ := json.Marshal(v)
	s.send(w, ep, b)
}

func (s *Server) send(w http.ResponseWriter, ep string, b []byte) {
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.Write(b)
	s.mu.Lock()
	s.stats.Bytes[ep] += int64(len(b))
	s.mu.Unlock()
}

// delta implements users/delta(): without a token it pages through every
// user and ends with a deltaLink; with $deltatoken it returns the users
// changed or removed since the token was issued; $deltatoken=latest
// returns no users and a deltaLink for the current state. Page size
// follows Prefer: odata.maxpagesize (default 100, at most 999).
func (s *Server) delta(w http.ResponseWriter, r *http.Request, ep string, sel []string, f Faults) {
	q := r.URL.Query()
	size := 100
	if p := r.Header.Get("Prefer"); strings.Contains(p, "odata.maxpagesize=") {
		n, _ := strconv.Atoi(strings.SplitN(strings.SplitN(p, "odata.maxpagesize=", 2)[1], ",", 2)[0])
		if n > 0 {
			size = min(n, 999)
		}
	}
	// State of this round: the sequence it started from (since), the
	// sequence it will end at (upto), and the offset. All live in the
	// opaque tokens, as Graph's do.
	since, upto, off := int64(-1), int64(0), 0
	s.mu.Lock()
	upto = s.seq
	s.mu.Unlock()
	if t := q.Get("$deltatoken"); t != "" {
		if t == "latest" {
			s.writeDelta(w, r, ep, nil, "", s.deltaLink(r, upto), 1, f)
			return
		}
		if f.DeltaGone {
			// "410 (gone) and a Location header containing a request URL
			// with an empty $deltaToken (same as the initial query)": no
			// body, so no ODataError for the client to parse.
			w.Header().Set("Location", url(r, map[string]string{"$deltatoken": ""}))
			w.WriteHeader(http.StatusGone)
			return
		}
		if f.DeltaErrorCode != "" {
			graphErr(w, http.StatusBadRequest, f.DeltaErrorCode, "The delta token is no longer valid, and the app must reset the sync state.")
			return
		}
		n, err := strconv.ParseInt(strings.TrimPrefix(t, "d"), 10, 64)
		s.mu.Lock()
		expired := err != nil || n < s.minSeq || f.ExpireDelta
		s.mu.Unlock()
		if expired {
			graphErr(w, http.StatusBadRequest, "syncStateNotFound", "The sync state generation is not found. The delta token is expired and data must be synchronized again.")
			return
		}
		since = n
	}
	if t := q.Get("$skiptoken"); t != "" {
		var a, b int64
		var o int
		if _, err := fmt.Sscanf(decodeOr(t), "%d:%d:%d", &a, &b, &o); err != nil {
			graphErr(w, http.StatusBadRequest, "Request_BadRequest", "The specified page token value has expired and can no longer be included in your request.")
			return
		}
		since, upto, off = a, b, o
	}
	page := off/size + 1
	if s.fail(w, r, ep, page, f) {
		return
	}
	s.mu.Lock()
	var items []func() map[string]any
	users := s.sc.Users
	minimal := s.variant.PartialDeltaItems || strings.Contains(strings.Join(r.Header.Values("Prefer"), ","), "return=minimal")
	if since < 0 {
		for i := range users {
			items = append(items, func() map[string]any { return project(userMap(&users[i]), sel, defaultUserProps) })
		}
	} else {
		tracked := sel
		if len(tracked) == 0 {
			tracked = defaultUserProps
		}
		in := func(v int64) bool { return v > since && v <= upto }
		for i := range users {
			u := &users[i]
			if c, ok := s.created[u.ID]; ok && in(c) {
				// "Newly created instances ... using their standard
				// representation."
				items = append(items, func() map[string]any { return project(userMap(u), sel, defaultUserProps) })
				continue
			}
			// A change to a property that is not selected does not list
			// the user ("user: delta", $select).
			changed := map[string]bool{}
			for _, k := range tracked {
				if v, ok := s.propVer[u.ID][k]; ok && in(v) {
					changed[k] = true
				}
			}
			if len(changed) == 0 {
				continue
			}
			everSet := maps.Clone(s.propVer[u.ID])
			items = append(items, func() map[string]any {
				m := project(userMap(u), sel, defaultUserProps)
				for k, v := range m {
					switch {
					case k == "id":
					case minimal && !changed[k]:
						delete(m, k) // Prefer: return=minimal: only what changed
					case !minimal && v == nil && !changed[k] && everSet[k] == 0:
						delete(m, k) // default: "never been set ... not included at all"
					}
				}
				return m
			})
		}
		ids := make([]string, 0)
		for id, g := range s.gone {
			if in(g.seq) {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		for _, id := range ids {
			reason := s.gone[id].reason
			items = append(items, func() map[string]any {
				return map[string]any{"@odata.type": "#microsoft.graph.user", "id": id, "@removed": map[string]any{"reason": reason}}
			})
		}
	}
	s.mu.Unlock()
	end := min(off+size, len(items))
	next, dl := "", ""
	if end < len(items) {
		nq := url(r, map[string]string{"$skiptoken": base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d:%d:%d", since, upto, end)))})
		next = nq
	} else {
		dl = s.deltaLink(r, upto)
	}
	if link, ok := s.repeat(r, page, f, func(nonce string) string {
		return url(r, map[string]string{"$skiptoken": base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d:%d:%d", since, upto, off))) + nonce})
	}); ok {
		next, dl = link, ""
	}
	var out []map[string]any
	for _, it := range items[min(off, len(items)):end] {
		out = append(out, it())
	}
	s.writeDelta(w, r, ep, out, next, dl, page, f)
}

func decodeOr(t string) string {
	t, _, _ = strings.Cut(t, ".")
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil {
		return ""
	}
	return string(b)
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

func (s *Server) deltaLink(r *http.Request, upto int64) string {
	return url(r, map[string]string{"$deltatoken": "d" + strconv.FormatInt(upto, 10)})
}

func (s *Server) writeDelta(w http.ResponseWriter, r *http.Request, ep string, items []map[string]any, next, dl string, page int, f Faults) {
	body := map[string]any{"@odata.context": s.base(r) + "/v1.0/$metadata#users", "value": nonNil(items)}
	if next != "" {
		body["@odata.nextLink"] = next
	}
	if dl != "" {
		body["@odata.deltaLink"] = dl
	}
	s.writePage(w, r, ep, body, page, f)
}

// ExpireDeltaTokens makes every delta token issued so far expired.
func (s *Server) ExpireDeltaTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	s.minSeq = s.seq
}
