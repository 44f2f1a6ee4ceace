package serve

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/review"
	"github.com/idgraph/idgraph/store"
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
	"kinds":           func() []string { return report.Kinds },
	"severities":      func() []string { return report.Severities },
	"kindsOf":         func() []review.Kind { return review.Kinds },
	"decisionFilters": func() []string { return decisionFilters },
}).ParseFS(pagesFS, "pages.html.tmpl"))

// decisionFilters are the values of the decision filter.
var decisionFilters = []string{"undecided", "pending", "approve", "revoke", "modify", "exception", "expired"}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data map[string]any) {
	s.renderStatus(w, r, http.StatusOK, name, data)
}

func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, status int, name string, data map[string]any) {
	s.renderSet(w, r, pages, status, name, data)
}

// renderSet renders page name of a template set (the pages, or a set
// cloned from them: campaigns, remediation) with what every page shows:
// the reviewer, the CSRF token and whether a run is under way.
func (s *Server) renderSet(w http.ResponseWriter, r *http.Request, set *template.Template, status int, name string, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	data["User"] = reviewer(r)
	data["CSRF"] = s.csrf(r)
	s.mu.Lock()
	data["Running"], data["LastErr"] = s.running, s.lastErr
	s.mu.Unlock()
	var b bytes.Buffer
	if err := set.ExecuteTemplate(&b, name, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func (s *Server) pageError(w http.ResponseWriter, r *http.Request, status int, err error) {
	s.renderStatus(w, r, status, "error", map[string]any{"Error": err.Error()})
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	if !localPath(next) {
		next = "/"
	}
	s.render(w, r, "login", map[string]any{"Next": next, "Failed": r.URL.Query().Get("failed") != ""})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	u, p := strings.TrimSpace(r.PostFormValue("user")), r.PostFormValue("password")
	next := r.PostFormValue("next")
	if !localPath(next) {
		next = "/"
	}
	ok, wait := s.signIn(r, u, p, "form")
	if wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second).Seconds())))
		s.renderStatus(w, r, http.StatusTooManyRequests, "login", map[string]any{"Next": next, "Locked": lockedMessage(wait)})
		return
	}
	if !ok {
		http.Redirect(w, r, "/login?failed=1&next="+urlEscape(next), http.StatusSeeOther)
		return
	}
	token, err := s.startSession(r.Context(), r, u)
	if err != nil {
		s.log.Error("starting a session", "reviewer", u, "error", err)
		s.pageError(w, r, http.StatusInternalServerError, errors.New("the session could not be recorded; try again"))
		return
	}
	s.log.Info("signed in", "reviewer", u, "address", s.clientAddr(r))
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.isHTTPS(r), MaxAge: int(sessionTTL / time.Second)})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session in the store, so that the cookie no longer
// works anywhere, even where a copy of it was kept.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" && len(s.o.SessionSecret) > 0 {
		if err := s.o.Store.EndSession(r.Context(), s.sessionID(c.Value)); err != nil {
			s.log.Error("ending a session", "error", err)
			s.pageError(w, r, http.StatusInternalServerError, errors.New("the session could not be ended; try again"))
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.isHTTPS(r)})
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
	s.renderFindings(w, r, http.StatusOK, r.URL.Query(), nil)
}

// renderFindings shows the findings page filtered by q; re, when set, is a
// refused decision, shown on its row with what the reviewer typed.
func (s *Server) renderFindings(w http.ResponseWriter, r *http.Request, status int, q url.Values, re *rowError) {
	pg, st, err := s.findingsOf(r.Context(), q)
	if err != nil {
		s.pageError(w, r, st, err)
		return
	}
	// Every decision form returns to the page as it is filtered now.
	back := url.Values{}
	for _, k := range []string{"snapshot", "kind", "severity", "team", "app", "decision", "state"} {
		if v := q.Get(k); v != "" {
			back.Set(k, v)
		}
	}
	if back.Get("snapshot") == "" {
		back.Set("snapshot", strconv.FormatInt(pg.Snapshot.ID, 10))
	}
	// With several applications the page offers a filter by application
	// and names each finding's application by its title.
	apps := report.Apps(pg.Snapshot.Sources)
	titles := map[string]string{}
	for _, a := range apps {
		titles[a.Name] = a.Title
	}
	data := map[string]any{"Snapshot": pg.Snapshot, "Items": pg.Items, "Unknown": pg.Unknown, "Incomplete": pg.Incomplete, "Q": map[string]string{
		"kind": q.Get("kind"), "severity": q.Get("severity"), "team": q.Get("team"), "app": pg.App, "decision": q.Get("decision"), "state": q.Get("state")},
		"Back": "/findings?" + back.Encode(), "Kinds": review.Kinds, "RowErr": re,
		"Apps": apps, "Multi": len(apps) > 1, "Titles": titles}
	if re == nil {
		data["Msg"], data["Err"] = q.Get("msg"), q.Get("err")
	}
	s.renderStatus(w, r, status, "findings", data)
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
		if errors.Is(err, store.ErrNoSnapshot) || status >= http.StatusInternalServerError {
			id, _ := snapshotParam(r)
			status, err = s.lookup(err, id)
		}
		s.pageError(w, r, status, err)
		return
	}
	sum, err := s.o.Store.Get(r.Context(), p.Snapshot)
	if err != nil {
		status, err := s.lookup(err, p.Snapshot)
		s.pageError(w, r, status, err)
		return
	}
	s.render(w, r, "person", personPage(p, sum.Sources))
}

// expectedRow is one application's line of a person page: the role the
// IdPs imply there, and why ("" when they imply none).
type expectedRow struct {
	Title, Role, Why string
}

// accountRow is an account of a person page, with what its IdP assigns
// in each application, under the application's title.
type accountRow struct {
	store.LinkedAccount
	Assigns []assignRow
	IdP     bool // an IdP account: no assignment reads "not assigned"
}

type assignRow struct {
	collectors.Assignment
	Title string // "" for an assignment that names no application (a single-app key)
}

// personPage is what the person page shows: the expected role in each
// application of the snapshot, under its title, and every account with
// the applications its IdP assigns.
func personPage(p *Person, sources []store.Source) map[string]any {
	apps := report.Apps(sources)
	multi := len(apps) > 1
	var exp []expectedRow
	for _, a := range apps {
		role, why := report.ExpectedIn(p.Person, a.Name, !multi)
		exp = append(exp, expectedRow{Title: a.Title, Role: role, Why: why})
	}
	idp := map[string]bool{}
	for _, src := range sources {
		idp[src.Info.Name] = src.Info.Kind == collectors.KindIdP
	}
	rows := make([]accountRow, 0, len(p.Accounts))
	for _, a := range p.Accounts {
		row := accountRow{LinkedAccount: a, IdP: idp[a.Source]}
		for _, as := range a.Assignments {
			row.Assigns = append(row.Assigns, assignRow{Assignment: as, Title: report.TitleIn(apps, as.App)})
		}
		rows = append(rows, row)
	}
	return map[string]any{"P": p, "Expected": exp, "Multi": multi, "Accounts": rows}
}

// pageDrift shows what changed from snapshot ?from= (default: the
// baseline of ?to=, the last one whose sources were complete) to ?to=
// (default: the latest), each line naming the person and the account.
func (s *Server) pageDrift(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	to, err := snapshotQuery(r, "to")
	if err != nil {
		s.pageError(w, r, http.StatusBadRequest, err)
		return
	}
	from, err := snapshotQuery(r, "from")
	if err != nil {
		s.pageError(w, r, http.StatusBadRequest, err)
		return
	}
	sum, err := s.o.Store.Get(ctx, to)
	if err != nil {
		status, msg := s.lookup(err, to)
		s.pageError(w, r, status, msg)
		return
	}
	if from == 0 {
		if from, err = s.o.Store.BaselineOf(ctx, sum); err != nil {
			status, msg := s.lookup(err, sum.ID)
			s.pageError(w, r, status, msg)
			return
		}
		if from == 0 {
			s.pageError(w, r, http.StatusNotFound, fmt.Errorf("snapshot %d has no earlier snapshot with the same sources complete to compare with", sum.ID))
			return
		}
	}
	if from >= sum.ID {
		s.pageError(w, r, http.StatusBadRequest, fmt.Errorf("from (%d) must be a snapshot earlier than to (%d)", from, sum.ID))
		return
	}
	d, err := s.o.Store.Drift(ctx, from, sum.ID)
	if err != nil {
		status, msg := s.lookup(err, from)
		s.pageError(w, r, status, msg)
		return
	}
	v, err := s.driftView(ctx, d)
	if err != nil {
		status, msg := s.lookup(err, sum.ID)
		s.pageError(w, r, status, msg)
		return
	}
	// With several applications each line names its application by title.
	apps := report.Apps(sum.Sources)
	titles, bySource := map[string]string{}, map[string]string{}
	for _, a := range apps {
		titles[a.Name] = a.Title
	}
	for _, src := range sum.Sources {
		if src.Info.App != "" {
			bySource[src.Info.Name] = report.TitleIn(apps, src.Info.App)
		}
	}
	s.render(w, r, "drift", map[string]any{"D": v, "Multi": len(apps) > 1, "Titles": titles, "SourceTitles": bySource})
}

// download serves the report and the evidence of a snapshot, generated
// from the stored snapshot (the same bytes as `idgraph export`), each CSV
// with its manifest beside it (FILE.manifest.json). Decisions are shown as
// of ?as_of= (a date or RFC 3339 time; default: the snapshot's own finish
// time), so a download can be made again, byte for byte.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	id, err := snapshotParam(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	asOf, err := parseDate(r.URL.Query().Get("as_of"))
	if err != nil {
		http.Error(w, "as_of must be a date (YYYY-MM-DD) or an RFC 3339 time", http.StatusBadRequest)
		return
	}
	d, err := report.Load(r.Context(), s.o.Store, id, s.o.Version)
	if err != nil {
		status, err := s.lookup(err, id) // never the store's path
		http.Error(w, err.Error(), status)
		return
	}
	rv, err := report.LoadReview(r.Context(), s.o.Store, d, asOf)
	if err != nil {
		status, err := s.lookup(err, id)
		http.Error(w, err.Error(), status)
		return
	}
	opt := report.CSVOptions{Review: rv}
	var b bytes.Buffer
	ct := "text/csv; charset=utf-8"
	file := r.PathValue("file")
	prefix := "snapshot-" + strconv.FormatInt(d.Snapshot.ID, 10) + "-"
	switch file {
	case "report.html":
		ct, err = "text/html; charset=utf-8", report.WriteHTML(&b, d)
	case "report.md":
		ct, err = "text/markdown; charset=utf-8", report.WriteMarkdown(&b, d)
	case "accounts.csv", "findings.csv", "accounts.csv.manifest.json", "findings.csv.manifest.json":
		kind, _, _ := strings.Cut(file, ".")
		data, manifest, _, berr := report.BuildExport(d, kind, prefix+kind+".csv", opt)
		if err = berr; strings.HasSuffix(file, ".json") {
			ct = "application/json"
			b.Write(manifest)
		} else {
			b.Write(data)
		}
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="`+prefix+file+`"`)
	w.Header().Set("X-Idgraph-Decisions-As-Of", rv.AsOf.Format(time.RFC3339Nano))
	w.Header().Set("X-Idgraph-Chain-Head", rv.Head)
	w.Write(b.Bytes())
}
