// Package stonlytest is a local replica of Stonly's web app as far as its
// Team Management page is known: a login form that sets a session cookie,
// a team switcher whose links carry team ids (/app/general/<teamId>/...),
// and a Team Management page rendered client-side from data after a delay,
// with pending invitations in their own section. Its markup uses generated
// class names that change on every start, so a scraper cannot lean on
// them. Layouts, paging styles and faults are switchable, for tests and
// the demo.
package stonlytest

import (
	"crypto/rand"
	_ "embed"
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
}

// Server is a running replica.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	sc       *Scenario
	v        Variant
	sessions map[string]*session
	logins   int
	requests int
	assets   int // image and font requests: a scraper should block them
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
	mux.HandleFunc("GET /app", s.app)
	mux.HandleFunc("GET /app/general/{team}/{rest...}", s.teamPage)
	mux.HandleFunc("GET /api/v1/teams/{team}/members", s.apiMembers)
	mux.HandleFunc("GET /api/v1/teams/{team}/invitations", s.apiInvitations)
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
	s.sessions[tok] = &session{email: s.sc.Email}
	return tok
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
	if v.ClassSeed == "" {
		v.ClassSeed = token()[:6]
	}
	return v
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

func (s *Server) shell(t *Team, v Variant) string {
	c := func(n string) string { return "c-" + v.ClassSeed + n } // generated class names
	var b strings.Builder
	fmt.Fprintf(&b, `<header class="%s"><img src="/assets/logo.png" alt="" width="16" height="16"><span class="%s">Stonly</span>
<nav aria-label="Switch team" class="%s"><button class="%s" aria-haspopup="menu">%s ▾</button><ul role="menu" class="%s">`,
		c("h"), c("logo"), c("nav"), c("tsw"), html.EscapeString(t.Name), c("menu"))
	s.mu.Lock()
	for _, o := range s.sc.Teams {
		fmt.Fprintf(&b, `<li role="none"><a role="menuitem" class="%s" href="/app/general/%s/dashboard">%s</a></li>`,
			c("mi"), o.ID, html.EscapeString(o.Name))
	}
	s.mu.Unlock()
	fmt.Fprintf(&b, `</ul></nav> <a class="%s" href="/app/general/%s/settings/team">Settings</a></header>`, c("set"), t.ID)
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
		page(w, t.Name, s.shell(t, v)+`<main><h1>Dashboard</h1><p>Guides, knowledge bases and insights.</p>
<ul><li><a href="/app/general/`+t.ID+`/settings/team">Team Management</a></li></ul></main>`)
		return
	}
	cfg, _ := json.Marshal(map[string]any{
		"team": t.ID, "layout": v.Layout, "columns": v.Columns, "paging": v.Paging, "pageSize": v.PageSize,
		"renderDelay": v.RenderDelay.Milliseconds(), "loadDelay": v.LoadDelay.Milliseconds(), "renamed": v.Renamed,
		"countOffset": v.CountOffset, "hideCount": v.HideCount || v.SilentEmpty, "silentEmpty": v.SilentEmpty, "roleSelect": v.RoleSelect, "cls": "c-" + v.ClassSeed,
	})
	page(w, "Team Management", s.shell(t, v)+`<main><h1>Team Management</h1><div id="root"><p>Loading…</p></div></main>
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
