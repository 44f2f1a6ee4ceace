// Package stonlytest is a local replica of Stonly's web app as far as its
// Team Management page is known: a login form that sets a session cookie,
// a team switcher whose links carry team ids (/app/general/<teamId>/...),
// and a Team Management page rendered client-side from data after a delay,
// with pending invitations in their own section. Its markup uses generated
// class names that change on every start, so a scraper cannot lean on
// them. Layouts, paging styles and faults are switchable, for tests and
// the demo.
//
// Roles follow Stonly's own description ("Team permissions in Stonly",
// stonly.com/kb/guide/en/team-permissions-in-stonly-cgrH5mLGgI): Owner,
// Admin and Member, one Owner per team, and only the Owner and Admins have
// "Team management & settings"; so an account that lost Admin in a team
// still sees the team in its switcher but not its member list.
//
// Like a single-page app, every app page embeds its state in a script
// (window.__APP_STATE__, with a session token and a CSRF token), and the
// header has a "Log out" control that ends the session on the server.
//
// Team Management has the admin controls of such consoles (admin.go,
// app.js): each row's "⋯" menu (Change role, Remove from team; Resend and
// Revoke invitation; the Owner's row offers neither), confirmation
// dialogs that name the person, toasts with the server's answer, and a
// removed row that fades and disappears after a delay. Changes are made
// to the scenario, so the next read shows them; Members, Invitations and
// Changes let tests look.
package stonlytest

import (
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Member is a joined member of a team.
type Member struct {
	Name       string    `json:"name"`
	Email      string    `json:"email"`
	Role       string    `json:"role"` // Owner, Admin, Member (or anything, to test unknown roles)
	LastActive time.Time `json:"lastActive"`
}

// Invitation is a pending invitation.
type Invitation struct {
	Email   string    `json:"email"`
	Role    string    `json:"role"`
	Invited time.Time `json:"invited"`
}

// Team is one Stonly team.
type Team struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Members     []Member     `json:"members"`
	Invitations []Invitation `json:"invitations"`
	// Access is what the signing-in account may do in the team: "" (Admin:
	// Team Management shows the members), "denied" (the page says the
	// account needs the Admin role) or "hidden" (the page shows no member
	// list and no management controls, and says nothing).
	Access string `json:"access,omitempty"`
}

// Scenario is the account the replica serves.
type Scenario struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Teams    []Team `json:"teams"`
}

// Variant chooses how the page looks and fails. The zero value is a plain
// HTML table, all rows at once, rendered after a short delay.
type Variant struct {
	Layout      string        // "table" (default), "grid" (role=grid of divs) or "ariatable" (role=table of divs)
	Columns     []string      // header order, from name, email, role, activity, groups, joined; default name, email, role, activity
	Paging      string        // "" (all rows), "pages" (Next and page numbers), "loadmore" or "scroll"
	PageSize    int           // rows per page or load; default 25
	RenderDelay time.Duration // before the first rows appear; default 300ms
	LoadDelay   time.Duration // before each further page or load; default 100ms
	Renamed     bool          // the headers are renamed (a changed layout)
	CountOffset int           // the shown member count differs from the rows by this much
	HideCount   bool          // no member count on the page
	ExpireAfter int           // the session expires after this many data requests
	MFA         bool          // a verification code is asked after the password
	Captcha     bool          // a captcha is shown on the login page
	RoleSelect  bool          // roles are shown in a <select> for editable rows
	ClassSeed   string        // seed of the generated class names; default random
	SilentEmpty bool          // the list renders with no rows and no count, saying nothing

	// Team discovery.
	Switcher      string        // "" team links in a header menu; "late": the menu renders SwitcherDelay after the page; "menu": its items appear only once its button is clicked; "none": no team list at all
	SwitcherDelay time.Duration // default 1.2s for "late", 100ms for "menu"
	ForeignLinks  bool          // the header also links to other /app/... pages: the knowledge base, insights, the team's guides

	// Rendering and rows.
	Staged      bool          // the member table renders at once with headers and no rows; rows RenderDelay later, invitations InviteDelay after them
	InviteDelay time.Duration // default 300ms
	RoleStyle   string        // "" text; "icon" (aria-label only), "title", "css" (::before content), "decorated" ("Admin ▾", "Admin ⌄", padding); "blank" (nothing at all)
	InviteRows  bool          // invitations are rows of the member list with a Status column ("Invited", "Pending"), counted in the member count
	Virtual     bool          // only the rows in view exist in the DOM, in a scrolling container (a virtualised list)

	// Admin controls (the remediation's actions).
	PortalMenus    bool          // row menus and dialogs render in a portal at the end of body, and a menu opens on pointerdown (Radix UI's DropdownMenu in a React portal)
	RemoveDelay    time.Duration // after a removal or revocation is accepted, before its row disappears; default 300ms
	RefuseRemove   string        // the server answers 500 to the removal of this address: the page shows "Something went wrong"
	ExpireAtChange int           // the session expires at the n-th change attempted (1-based), which is answered 401; 0: never
	RenamedMenu    bool          // a redesign: the row menu offers "Deactivate member" where it offered "Remove from team"
}

// Change is one admin change the replica was asked for, and its answer.
type Change struct {
	Team   string
	Op     string // "remove", "set_role", "revoke_invitation"
	Email  string
	Role   string // set_role: the role asked for
	Status int    // the HTTP status answered
}

// Server is a running replica.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	sc       *Scenario
	v        Variant
	sessions map[string]*session
	logins   int
	logouts  int
	issued   []string // every session token handed out, for tests
	secrets  []string // those tokens, their JWTs and CSRF tokens
	requests int
	assets   int // image and font requests: a scraper should block them
	changes  []Change
}

// Assets counts requests for images and fonts.
func (s *Server) Assets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.assets
}

type session struct {
	email   string
	calls   int
	expired bool
	csrf    string // a long random token, as apps embed for their forms
}

//go:embed app.js
var appJS string

// CookieName is the session cookie the replica sets.
const CookieName = "stonly_session"

// NewServer starts a replica on 127.0.0.1.
func NewServer(sc *Scenario) *Server {
	s := NewUnstarted(sc)
	s.Start()
	return s
}

// NewUnstarted builds a replica without starting it.
func NewUnstarted(sc *Scenario) *Server {
	s := &Server{sc: sc, sessions: map[string]*session{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/app", http.StatusFound) })
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /mfa", s.mfa)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /logout", s.logout)
	mux.HandleFunc("GET /app", s.app)
	mux.HandleFunc("GET /app/general/{team}/{rest...}", s.teamPage)
	mux.HandleFunc("GET /api/v1/teams/{team}/members", s.apiMembers)
	mux.HandleFunc("GET /api/v1/teams/{team}/invitations", s.apiInvitations)
	mux.HandleFunc("DELETE /api/v1/teams/{team}/members/{email}", s.apiRemove)
	mux.HandleFunc("PATCH /api/v1/teams/{team}/members/{email}", s.apiSetRole)
	mux.HandleFunc("DELETE /api/v1/teams/{team}/invitations/{email}", s.apiRevoke)
	asset := func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.assets++
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}
	mux.HandleFunc("GET /favicon.ico", asset)
	mux.HandleFunc("GET /assets/{file}", asset)
	s.Server = httptest.NewUnstartedServer(mux)
	return s
}

// SetVariant switches the layout and faults.
func (s *Server) SetVariant(v Variant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.v = v
}

// Update changes the scenario while the replica runs.
func (s *Server) Update(f func(*Scenario)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.sc)
}

// NewSession creates a logged-in session, as an SSO login would, and
// returns its cookie value.
func (s *Server) NewSession() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := token()
	se := &session{email: s.sc.Email, csrf: csrfToken()}
	s.sessions[tok] = se
	s.issued = append(s.issued, tok)
	s.secrets = append(s.secrets, tok, jwt(tok), se.csrf)
	return tok
}

// Secrets returns every secret the replica put in a page or a cookie:
// session tokens, the JWTs that carry them and the CSRF tokens. A capture
// of a page must hold none of them.
func (s *Server) Secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.secrets...)
}

// Issued returns every session token the replica handed out, in order.
func (s *Server) Issued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// SessionValid reports whether tok is a session the replica still honours.
func (s *Server) SessionValid(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	se := s.sessions[tok]
	return se != nil && !se.expired
}

// Logouts counts sign-outs.
func (s *Server) Logouts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logouts
}

// logout ends the session on the server, as a real sign-out does: the
// cookie stops working everywhere, not only in this browser.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil {
		s.mu.Lock()
		if _, ok := s.sessions[c.Value]; ok {
			delete(s.sessions, c.Value)
			s.logouts++
		}
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// Logins counts password login attempts.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

func token() string {
	b := make([]byte, 18)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func csrfToken() string {
	b := make([]byte, 36)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// jwt builds a JWT-shaped token that carries the session: single-page apps
// keep such a token in their page state (and send it as a bearer token).
func jwt(session string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(`{"sid":"`+session+`","sub":"it-bot"}`)) + "." + enc([]byte(session+"-signature"))
}

func (s *Server) variant() Variant {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.v
	if v.Layout == "" {
		v.Layout = "table"
	}
	if len(v.Columns) == 0 {
		v.Columns = []string{"name", "email", "role", "activity"}
	}
	if v.PageSize == 0 {
		v.PageSize = 25
	}
	if v.RenderDelay == 0 {
		v.RenderDelay = 300 * time.Millisecond
	}
	if v.LoadDelay == 0 {
		v.LoadDelay = 100 * time.Millisecond
	}
	if v.SwitcherDelay == 0 {
		v.SwitcherDelay = 1200 * time.Millisecond
		if v.Switcher == "menu" {
			v.SwitcherDelay = 100 * time.Millisecond
		}
	}
	if v.InviteDelay == 0 {
		v.InviteDelay = 300 * time.Millisecond
	}
	if v.RemoveDelay == 0 {
		v.RemoveDelay = 300 * time.Millisecond
	}
	if v.ClassSeed == "" {
		v.ClassSeed = token()[:6]
	}
	return v
}

// state is the page state a single-page app embeds: the session as a
// JWT-shaped token and a CSRF token, both live secrets.
func (s *Server) state(r *http.Request) string {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return ""
	}
	s.mu.Lock()
	se := s.sessions[c.Value]
	s.mu.Unlock()
	if se == nil {
		return ""
	}
	b, _ := json.Marshal(map[string]any{"session": jwt(c.Value), "csrfToken": se.csrf, "user": map[string]string{"email": se.email}})
	return `<script>window.__APP_STATE__=` + string(b) + `;</script>`
}

func (s *Server) csrf(r *http.Request) string {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if se := s.sessions[c.Value]; se != nil {
		return se.csrf
	}
	return ""
}

// auth returns the session of the request, or nil.
func (s *Server) auth(r *http.Request, data bool) *session {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	se := s.sessions[c.Value]
	if se == nil || se.expired {
		return nil
	}
	if data {
		se.calls++
		if s.v.ExpireAfter > 0 && se.calls > s.v.ExpireAfter {
			se.expired = true
			return nil
		}
	}
	return se
}

func (s *Server) team(id string) *Team {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.sc.Teams {
		if s.sc.Teams[i].ID == id {
			return &s.sc.Teams[i]
		}
	}
	return nil
}

const style = `@font-face{font-family:Brand;src:url(/assets/brand.woff2) format("woff2")}
body{font-family:Brand,sans-serif;margin:0}header{background:#223;color:#fff;padding:8px}main{padding:16px}
table,[role=table],[role=grid]{border-collapse:collapse;margin:8px 0}td,th,[role=cell],[role=gridcell],[role=columnheader]{padding:4px 8px;border-bottom:1px solid #ddd}
[role=row]{display:flex}[role=row]>*{width:220px}`

func page(w http.ResponseWriter, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>%s · Stonly</title><style>%s</style></head><body>%s</body></html>`,
		html.EscapeString(title), style, body)
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	v := s.variant()
	msg := ""
	switch r.URL.Query().Get("error") {
	case "credentials":
		msg = `<div role="alert">Incorrect email or password. Please try again.</div>`
	}
	if r.URL.Query().Get("expired") == "1" {
		msg = `<div role="alert">Your session has expired. Please log in again.</div>`
	}
	captcha := ""
	if v.Captcha {
		captcha = `<div id="captcha"><p>Please confirm you're not a robot.</p><div role="checkbox" aria-checked="false">I'm not a robot (reCAPTCHA)</div></div>`
	}
	page(w, "Log in", fmt.Sprintf(`<main><h1>Log in to Stonly</h1>%s
<form method="post" action="/login">
<label>Email <input type="email" name="email" autocomplete="username" required></label><br>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label><br>
%s<button type="submit">Log in</button></form><p><a href="/sso">Log in with SSO</a></p></main>`, msg, captcha))
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	v := s.variant()
	r.ParseForm()
	s.mu.Lock()
	s.logins++
	ok := r.PostForm.Get("email") == s.sc.Email && r.PostForm.Get("password") == s.sc.Password && s.sc.Password != ""
	s.mu.Unlock()
	if !ok || v.Captcha {
		http.Redirect(w, r, "/login?error=credentials", http.StatusSeeOther)
		return
	}
	if v.MFA {
		page(w, "Verify", `<main><h1>Two-factor authentication</h1><form method="post" action="/mfa">
<p>Enter the 6-digit verification code from your authenticator app.</p>
<label>Code <input name="code" inputmode="numeric" autocomplete="one-time-code"></label><button type="submit">Verify</button></form></main>`)
		return
	}
	s.startSession(w, r)
}

func (s *Server) mfa(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/login?error=credentials", http.StatusSeeOther)
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request) {
	tok := s.NewSession()
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/app", http.StatusSeeOther)
}

func (s *Server) app(w http.ResponseWriter, r *http.Request) {
	if s.auth(r, false) == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.mu.Lock()
	first := ""
	if len(s.sc.Teams) > 0 {
		first = s.sc.Teams[0].ID
	}
	s.mu.Unlock()
	http.Redirect(w, r, "/app/general/"+first+"/dashboard", http.StatusSeeOther)
}

func (s *Server) shell(r *http.Request, t *Team, v Variant) string {
	c := func(n string) string { return "c-" + v.ClassSeed + n } // generated class names
	var items strings.Builder
	s.mu.Lock()
	for _, o := range s.sc.Teams {
		fmt.Fprintf(&items, `<li role="none"><a role="menuitem" class="%s" href="/app/general/%s/dashboard">%s</a></li>`,
			c("mi"), o.ID, html.EscapeString(o.Name))
	}
	s.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, `<header class="%s"><img src="/assets/logo.png" alt="" width="16" height="16"><span class="%s">Stonly</span> `, c("h"), c("logo"))
	if v.ForeignLinks {
		// Other parts of the app live under /app/ too, some with ids of
		// their own: none of them is a team.
		fmt.Fprintf(&b, `<nav aria-label="Main" class="%s"><a href="/app/general/%s/guides">Guides</a> <a href="/app/knowledge-base/KB7f3a9c/home">Knowledge base</a> <a href="/app/insights/overview">Insights</a> <a href="/app/general/%s/settings/team">Team Management</a></nav> `,
			c("main"), t.ID, t.ID)
	}
	button := fmt.Sprintf(`<button class="%s" aria-haspopup="menu"%%s>%s ▾</button>`, c("tsw"), html.EscapeString(t.Name))
	switch v.Switcher {
	case "none":
	case "late":
		// The switcher is a component that renders after its own fetch.
		nav := fmt.Sprintf(`<nav aria-label="Switch team" class="%s">%s<ul role="menu" class="%s">%s</ul></nav>`, c("nav"), fmt.Sprintf(button, ""), c("menu"), items.String())
		js, _ := json.Marshal(nav)
		fmt.Fprintf(&b, `<span id="%s"></span><script>setTimeout(function(){document.getElementById(%q).outerHTML=%s}, %d)</script>`,
			c("swslot"), c("swslot"), js, v.SwitcherDelay.Milliseconds())
	case "menu":
		// The items exist only once the menu is opened.
		js, _ := json.Marshal(items.String())
		fmt.Fprintf(&b, `<nav aria-label="Switch team" class="%s">%s<ul role="menu" class="%s" hidden></ul></nav>
<script>(function(){const n=document.currentScript.previousElementSibling,btn=n.querySelector('button'),ul=n.querySelector('ul');
btn.addEventListener('click',function(){btn.setAttribute('aria-expanded','true');setTimeout(function(){ul.innerHTML=%s;ul.hidden=false},%d)})})()</script>`,
			c("nav"), fmt.Sprintf(button, ` aria-expanded="false"`), c("menu"), js, v.SwitcherDelay.Milliseconds())
	default:
		fmt.Fprintf(&b, `<nav aria-label="Switch team" class="%s">%s<ul role="menu" class="%s">%s</ul></nav>`, c("nav"), fmt.Sprintf(button, ""), c("menu"), items.String())
	}
	fmt.Fprintf(&b, ` <a class="%s" href="/app/general/%s/settings/team">Settings</a>
<form method="post" action="/logout" class="%s"><input type="hidden" name="csrf" value="%s"><button type="submit">Log out</button></form></header>%s`,
		c("set"), t.ID, c("lo"), html.EscapeString(s.csrf(r)), s.state(r))
	return b.String()
}

func (s *Server) teamPage(w http.ResponseWriter, r *http.Request) {
	if s.auth(r, false) == nil {
		http.Redirect(w, r, "/login?expired=1", http.StatusSeeOther)
		return
	}
	t := s.team(r.PathValue("team"))
	if t == nil {
		w.WriteHeader(http.StatusNotFound)
		page(w, "Not found", `<main><h1>Team not found</h1></main>`)
		return
	}
	v := s.variant()
	if r.PathValue("rest") != "settings/team" {
		page(w, t.Name, s.shell(r, t, v)+`<main><h1>Dashboard</h1><p>Guides, knowledge bases and insights.</p>
<ul><li><a href="/app/general/`+t.ID+`/settings/team">Team Management</a></li></ul></main>`)
		return
	}
	switch t.Access {
	case "denied":
		page(w, "Team Management", s.shell(r, t, v)+`<main><h1>Team Management</h1><div role="alert">You don't have access to Team Management. Only the Owner and Admins of this team can manage its members.</div></main>`)
		return
	case "hidden":
		page(w, "Team Management", s.shell(r, t, v)+`<main><h1>Team settings</h1><p>Team name: `+html.EscapeString(t.Name)+`</p></main>`)
		return
	}
	cfg, _ := json.Marshal(map[string]any{
		"team": t.ID, "layout": v.Layout, "columns": v.Columns, "paging": v.Paging, "pageSize": v.PageSize,
		"renderDelay": v.RenderDelay.Milliseconds(), "loadDelay": v.LoadDelay.Milliseconds(), "renamed": v.Renamed,
		"countOffset": v.CountOffset, "hideCount": v.HideCount || v.SilentEmpty, "silentEmpty": v.SilentEmpty, "roleSelect": v.RoleSelect, "cls": "c-" + v.ClassSeed,
		"staged": v.Staged, "inviteDelay": v.InviteDelay.Milliseconds(), "roleStyle": v.RoleStyle, "inviteRows": v.InviteRows, "virtual": v.Virtual,
		"teamName": t.Name, "portal": v.PortalMenus, "renamedMenu": v.RenamedMenu, "removeDelay": v.RemoveDelay.Milliseconds(),
	})
	page(w, "Team Management", s.shell(r, t, v)+`<main><h1>Team Management</h1><div id="root"><p>Loading…</p></div><div id="c-`+v.ClassSeed+`layer"></div></main>
<script>const CFG=`+string(cfg)+`;`+appJS+`</script>`)
}

func (s *Server) apiMembers(w http.ResponseWriter, r *http.Request) {
	if s.auth(r, true) == nil {
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{"error": "session_expired"})
		return
	}
	t := s.team(r.PathValue("team"))
	if t == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if t.Access != "" {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	lim, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if lim <= 0 {
		lim = len(t.Members)
	}
	s.mu.Lock()
	s.requests++
	if s.v.SilentEmpty {
		off = len(t.Members)
	}
	end := min(off+lim, len(t.Members))
	var ms []Member
	if off < end {
		ms = append(ms, t.Members[off:end]...)
	}
	total := len(t.Members)
	if s.v.SilentEmpty {
		total = 0
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"total": total, "members": ms})
}

func (s *Server) apiInvitations(w http.ResponseWriter, r *http.Request) {
	if s.auth(r, true) == nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	t := s.team(r.PathValue("team"))
	if t == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	s.mu.Lock()
	inv := append([]Invitation{}, t.Invitations...)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"invitations": inv})
}
