package serve

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/idgraph/idgraph/report"
)

//go:embed pages.html.tmpl
var pagesFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"utc":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"day":   func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"clean": func(s string) string { return report.Terminal(s, 300) },
	"pathEscape": func(s string) string {
		return strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(s)
	},
	"kinds":      func() []string { return report.Kinds },
	"severities": func() []string { return report.Severities },
	"decisionFilters": func() []string {
		return []string{"undecided", "approve", "revoke", "exception", "expired"}
	},
}).ParseFS(pagesFS, "pages.html.tmpl"))

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	data["User"] = reviewer(r)
	data["CSRF"] = s.csrf(r)
	s.mu.Lock()
	data["Running"], data["LastErr"] = s.running, s.lastErr
	s.mu.Unlock()
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

func (s *Server) pageError(w http.ResponseWriter, r *http.Request, status int, err error) {
	w.WriteHeader(status)
	s.render(w, r, "error", map[string]any{"Error": err.Error()})
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "login", map[string]any{"Next": r.URL.Query().Get("next"), "Failed": r.URL.Query().Get("failed") != ""})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	u, p := strings.TrimSpace(r.PostFormValue("user")), r.PostFormValue("password")
	next := r.PostFormValue("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		next = "/"
	}
	if !s.checkUser(u, p) {
		s.log.Warn("failed sign-in", "user", u)
		http.Redirect(w, r, "/login?failed=1&next="+urlEscape(next), http.StatusSeeOther)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.newSession(u), Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil, MaxAge: 12 * 3600})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) pageHome(w http.ResponseWriter, r *http.Request) {
	list, err := s.o.Store.List(r.Context())
	if err != nil {
		s.pageError(w, r, http.StatusInternalServerError, err)
		return
	}
	s.render(w, r, "home", map[string]any{"Snapshots": list})
}

func (s *Server) pageFindings(w http.ResponseWriter, r *http.Request) {
	sum, items, status, err := s.findings(r)
	if err != nil {
		s.pageError(w, r, status, err)
		return
	}
	q := r.URL.Query()
	s.render(w, r, "findings", map[string]any{"Snapshot": sum, "Items": items, "Q": map[string]string{
		"kind": q.Get("kind"), "severity": q.Get("severity"), "team": q.Get("team"), "decision": q.Get("decision"), "state": q.Get("state")},
		"Msg": q.Get("msg"), "Err": q.Get("err")})
}

func (s *Server) formDecide(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if !s.checkForm(r) {
		s.pageError(w, r, http.StatusForbidden, errors.New("the form has expired; reload the page"))
		return
	}
	back := r.PostFormValue("back")
	if !strings.HasPrefix(back, "/findings") {
		back = "/findings"
	}
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	exp, err := parseDate(r.PostFormValue("expires"))
	if err == nil {
		_, _, err = s.Decide(r.Context(), reviewer(r), r.PostFormValue("finding"), r.PostFormValue("decision"), r.PostFormValue("justification"), exp)
	}
	if err != nil {
		http.Redirect(w, r, back+sep+"err="+urlEscape(err.Error()), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, back+sep+"msg="+urlEscape("decision recorded"), http.StatusSeeOther)
}

func (s *Server) formRun(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if !s.checkForm(r) {
		s.pageError(w, r, http.StatusForbidden, errors.New("the form has expired; reload the page"))
		return
	}
	if err := s.startRun(); err != nil {
		s.pageError(w, r, http.StatusConflict, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) pagePerson(w http.ResponseWriter, r *http.Request) {
	p, status, err := s.person(r)
	if err != nil {
		s.pageError(w, r, status, err)
		return
	}
	s.render(w, r, "person", map[string]any{"P": p})
}

func (s *Server) pageDrift(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	to, _ := strconv.ParseInt(q.Get("to"), 10, 64)
	sum, err := s.o.Store.Get(r.Context(), to)
	if err != nil {
		s.pageError(w, r, http.StatusNotFound, err)
		return
	}
	from, _ := strconv.ParseInt(q.Get("from"), 10, 64)
	if from == 0 {
		from, _ = s.o.Store.BaselineOf(r.Context(), sum)
	}
	if from == 0 {
		s.pageError(w, r, http.StatusNotFound, errors.New("no earlier snapshot to compare with"))
		return
	}
	d, err := s.o.Store.Drift(r.Context(), from, sum.ID)
	if err != nil {
		s.pageError(w, r, http.StatusNotFound, err)
		return
	}
	s.render(w, r, "drift", map[string]any{"D": d})
}

// download serves the report and the evidence of a snapshot, generated
// from the stored snapshot (the same bytes as `idgraph export`).
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	id, err := snapshotParam(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	d, err := report.Load(r.Context(), s.o.Store, id, s.o.Version)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	var b bytes.Buffer
	ct := "text/csv; charset=utf-8"
	file := r.PathValue("file")
	switch file {
	case "report.html":
		ct, err = "text/html; charset=utf-8", report.WriteHTML(&b, d)
	case "report.md":
		ct, err = "text/markdown; charset=utf-8", report.WriteMarkdown(&b, d)
	case "accounts.csv":
		var data []byte
		data, _, _, err = report.AccountsCSV(d, report.CSVOptions{})
		b.Write(data)
	case "findings.csv":
		var data []byte
		data, _, _, err = report.FindingsCSV(d, report.CSVOptions{})
		b.Write(data)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="snapshot-`+strconv.FormatInt(d.Snapshot.ID, 10)+"-"+file+`"`)
	w.Write(b.Bytes())
}
