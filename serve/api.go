package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/review"
	"github.com/idgraph/idgraph/store"
)

func urlEscape(s string) string { return url.QueryEscape(s) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func fail(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

func snapshotParam(r *http.Request) (int64, error) {
	return snapshotID(r.URL.Query().Get("snapshot"))
}

func snapshotID(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, errors.New("snapshot must be a snapshot id")
	}
	return id, nil
}

// Item is a finding with the decision in force, as the API and UI show it.
type Item struct {
	diff.Finding
	// AppTitle is the title of the finding's application, as its source
	// declared it ("Notion").
	AppTitle string          `json:"app_title,omitempty"`
	Decision *store.Decision `json:"decision,omitempty"` // in force
	// Pending is the newest decision that waits for its second reviewer.
	Pending *store.Decision `json:"pending,omitempty"`
	Status  string          `json:"review_status"` // undecided, approved, approval expired, exception, exception ended, revoke pending, ... pending confirmation
	// History is every decision about the finding, oldest first: a later
	// decision never hides an earlier one.
	History []store.Decision `json:"history,omitempty"`
}

// findingsPage is a snapshot's findings as a filter selected them.
type findingsPage struct {
	Snapshot *store.Summary
	Items    []Item
	Unknown  int // findings of the snapshot that could not be re-checked, whatever the filter
	// Incomplete names the snapshot's incomplete sources.
	Incomplete []string
	App        string // the application filtered on, by short name
}

// findings returns a snapshot's findings filtered as the request's query
// asks.
func (s *Server) findings(r *http.Request) (*findingsPage, int, error) {
	return s.findingsOf(r.Context(), r.URL.Query())
}

// findingsOf returns a snapshot's findings filtered by q: kind, severity,
// team, decision (undecided, pending, approve, revoke, modify, exception,
// expired) and state (open, unknown, all; default open).
func (s *Server) findingsOf(ctx context.Context, q url.Values) (*findingsPage, int, error) {
	id, err := snapshotID(q.Get("snapshot"))
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	// A filter value that cannot match is a mistake to say, not an empty
	// list that reads as "nothing to review".
	for _, f := range []struct {
		name  string
		known []string
	}{{"kind", report.Kinds}, {"severity", report.Severities}, {"state", []string{diff.StateOpen, diff.StateUnknown, "all"}}, {"decision", decisionFilters}} {
		if v := q.Get(f.name); v != "" && !slices.Contains(f.known, v) {
			return nil, http.StatusBadRequest, fmt.Errorf("%s must be one of %s, not %q", f.name, strings.Join(f.known, ", "), v)
		}
	}
	sum, err := s.o.Store.Get(ctx, id)
	if err != nil {
		status, err := s.lookup(err, id)
		return nil, status, err
	}
	// app names an application of the snapshot by its short name or its
	// title; like the other filters, a value that cannot match is refused.
	var app string
	apps := report.Apps(sum.Sources)
	if v := q.Get("app"); v != "" {
		a, ok := report.FindApp(apps, v)
		if !ok {
			return nil, http.StatusBadRequest, fmt.Errorf("app must be one of %s (the applications of snapshot %d), not %q", strings.Join(report.AppNames(apps), ", "), sum.ID, v)
		}
		app = a.Name
	}
	fs, err := s.o.Store.Findings(ctx, sum.ID)
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	decisions, all, err := s.o.Store.Decisions(ctx, true)
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	history := map[string][]store.Decision{}
	for i := len(all) - 1; i >= 0; i-- { // all is newest first
		history[all[i].FindingKey] = append(history[all[i].FindingKey], all[i])
	}
	state := q.Get("state")
	if state == "" {
		state = diff.StateOpen
	}
	now := s.o.Now()
	out := []Item{}
	unknown := 0
	for _, f := range fs {
		if f.State == diff.StateUnknown {
			unknown++
		}
		it := Item{Finding: f, AppTitle: report.TitleIn(apps, f.App), Status: "undecided", History: history[f.Key]}
		cur := "undecided"
		if d, ok := decisions[f.Key]; ok {
			it.Decision = &d
			it.Status = d.State(now)
			cur = d.Decision
			if !d.Active(now) {
				cur = "expired"
			}
		}
		if l := review.Latest(it.History); l != nil && l.Pending() {
			it.Pending = l
			it.Status = l.State(now)
			if it.Decision != nil {
				it.Status += "; in force: " + it.Decision.State(now)
			}
		}
		if (state != "all" && f.State != state) ||
			(q.Get("kind") != "" && f.Kind != q.Get("kind")) ||
			(q.Get("severity") != "" && f.Severity != q.Get("severity")) ||
			(app != "" && f.App != app) ||
			(q.Get("team") != "" && f.Team != q.Get("team") && !strings.EqualFold(f.TeamName, q.Get("team"))) {
			continue
		}
		if dq := q.Get("decision"); dq != "" && dq != cur && (dq != "pending" || it.Pending == nil) {
			continue
		}
		out = append(out, it)
	}
	pg := &findingsPage{Snapshot: sum, Items: out, Unknown: unknown, App: app}
	for _, src := range sum.Sources {
		if !src.Completeness.Complete {
			pg.Incomplete = append(pg.Incomplete, src.Info.Name)
		}
	}
	return pg, http.StatusOK, nil
}

func (s *Server) apiSnapshots(w http.ResponseWriter, r *http.Request) {
	list, err := s.o.Store.List(r.Context())
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	if list == nil {
		list = []store.Summary{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) apiFindings(w http.ResponseWriter, r *http.Request) {
	pg, status, err := s.findings(r)
	if err != nil {
		fail(w, status, err)
		return
	}
	// The body stays the array `findings --format json` prints; what could
	// not be re-checked is said beside it, whatever the filter, so that a
	// script reading facts only still learns that the facts are partial.
	w.Header().Set("X-Idgraph-Snapshot", strconv.FormatInt(pg.Snapshot.ID, 10))
	w.Header().Set("X-Idgraph-Unknown-Findings", strconv.Itoa(pg.Unknown))
	if len(pg.Incomplete) > 0 {
		w.Header().Set("X-Idgraph-Incomplete-Sources", strings.Join(pg.Incomplete, ","))
	}
	writeJSON(w, http.StatusOK, pg.Items)
}

// Person is a person's page of the graph.
type Person struct {
	Snapshot int64                 `json:"snapshot"`
	Person   store.Person          `json:"person"`
	Accounts []store.LinkedAccount `json:"accounts"`
	Findings []diff.Finding        `json:"findings"`
}

func (s *Server) person(r *http.Request) (*Person, int, error) {
	id, err := snapshotParam(r)
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	sum, err := s.o.Store.Get(r.Context(), id)
	if err != nil {
		status, err := s.lookup(err, id)
		return nil, status, err
	}
	pid := r.PathValue("id")
	people, err := s.o.Store.People(r.Context(), sum.ID)
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	p, ok := people[pid]
	if !ok {
		return nil, http.StatusNotFound, errors.New("no person " + pid + " in snapshot " + strconv.FormatInt(sum.ID, 10))
	}
	out := &Person{Snapshot: sum.ID, Person: p, Accounts: []store.LinkedAccount{}, Findings: []diff.Finding{}}
	accs, err := s.o.Store.Accounts(r.Context(), sum.ID)
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	for _, a := range accs {
		if a.Person == pid {
			out.Accounts = append(out.Accounts, a)
		}
	}
	fs, _ := s.o.Store.Findings(r.Context(), sum.ID)
	for _, f := range fs {
		if f.Person == pid {
			out.Findings = append(out.Findings, f)
		}
	}
	return out, http.StatusOK, nil
}

func (s *Server) apiPerson(w http.ResponseWriter, r *http.Request) {
	p, status, err := s.person(r)
	if err != nil {
		fail(w, status, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// apiDecisions lists every decision, newest first, with its second
// reviewer: ?finding= (ID or key) narrows it to one finding's history, and
// ?as_of= shows the review as it stood then.
func (s *Server) apiDecisions(w http.ResponseWriter, r *http.Request) {
	asOf, err := parseDate(r.URL.Query().Get("as_of"))
	if err != nil {
		fail(w, http.StatusBadRequest, errors.New("as_of must be a date (YYYY-MM-DD) or an RFC 3339 time"))
		return
	}
	_, all, err := s.o.Store.DecisionsAsOf(r.Context(), asOf)
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	out := []store.Decision{}
	f := r.URL.Query().Get("finding")
	for _, d := range all {
		if f == "" || d.FindingKey == f || d.FindingID == f {
			out = append(out, d)
		}
	}
	if head, err := s.o.Store.HeadAsOf(r.Context(), asOf, 0); err == nil {
		w.Header().Set("X-Idgraph-Chain-Head", head)
	}
	writeJSON(w, http.StatusOK, out)
}

// DecisionRequest is the body of POST /api/v1/decisions.
type DecisionRequest struct {
	Finding       string `json:"finding"` // key or id
	Decision      string `json:"decision"`
	Justification string `json:"justification"`
	Role          string `json:"role,omitempty"`    // modify: the role to change to
	Expires       string `json:"expires,omitempty"` // YYYY-MM-DD or RFC 3339: approve (expiry), exception (end)
	// Confirm makes the request the second reviewer's confirmation of the
	// finding's pending decision; the other fields are then empty.
	Confirm bool `json:"confirm,omitempty"`
}

func parseDate(v string) (time.Time, error) {
	t, err := review.ParseTime(v)
	if err != nil {
		return time.Time{}, errors.New("expires must be a date (YYYY-MM-DD)")
	}
	return t, nil
}

// jsonBody reports whether the request says its body is JSON. A browser
// sends a cross-origin text/plain or form body without asking first
// (CORS calls it a simple request); application/json it does not.
func jsonBody(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

func (s *Server) apiDecide(w http.ResponseWriter, r *http.Request) {
	if !jsonBody(r) {
		fail(w, http.StatusUnsupportedMediaType, errors.New("the body must be JSON, sent with Content-Type: application/json"))
		return
	}
	var req DecisionRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, errors.New("the body must be a JSON object with finding, decision, justification, role, expires or confirm: "+err.Error()))
		return
	}
	exp, err := parseDate(req.Expires)
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	var d *store.Decision
	var status int
	if req.Confirm {
		if req.Decision != "" || req.Justification != "" || req.Role != "" || req.Expires != "" {
			fail(w, http.StatusBadRequest, errors.New("a confirmation names the finding only: the decision it confirms is the pending one"))
			return
		}
		d, status, err = s.Confirm(r.Context(), reviewer(r), req.Finding)
	} else {
		d, status, err = s.Decide(r.Context(), reviewer(r), req.Finding,
			review.Request{Decision: req.Decision, Justification: req.Justification, Role: req.Role, Expires: exp})
	}
	if err != nil {
		fail(w, status, err)
		return
	}
	writeJSON(w, status, d)
}

func (s *Server) apiRun(w http.ResponseWriter, r *http.Request) {
	if err := s.startRun(); err != nil {
		status := http.StatusConflict
		if errors.Is(err, ErrStopping) {
			status = http.StatusServiceUnavailable
		}
		fail(w, status, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "started"})
}

// startRun begins a manual run in the background.
func (s *Server) startRun() error {
	s.mu.Lock()
	busy, stopping := s.running, s.stopping
	s.mu.Unlock()
	switch {
	case stopping:
		return ErrStopping
	case busy:
		return ErrBusy
	}
	go func() {
		if err := s.RunNow(context.Background(), "manual"); err != nil && !errors.Is(err, ErrBusy) {
			s.log.Error("manual run failed", "error", err)
		}
	}()
	return nil
}

// operator refuses the request unless it carries the bearer token: lifting
// a lockout is the operator's, not a reviewer's.
func operator(w http.ResponseWriter, r *http.Request) bool {
	if callerOf(r).via != viaBearer {
		fail(w, http.StatusForbidden, errors.New("only the operator's bearer token (serve.token_env) may read or lift lockouts"))
		return false
	}
	return true
}

// apiLockouts lists the accounts and addresses with recent failed sign-ins.
func (s *Server) apiLockouts(w http.ResponseWriter, r *http.Request) {
	if !operator(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, s.throttle.list())
}

// apiLift lifts the lockout of ?account= or ?address= (exactly one).
func (s *Server) apiLift(w http.ResponseWriter, r *http.Request) {
	if !operator(w, r) {
		return
	}
	account, addr := accountKey(r.URL.Query().Get("account")), strings.TrimSpace(r.URL.Query().Get("address"))
	if (account == "") == (addr == "") {
		fail(w, http.StatusBadRequest, errors.New("name exactly one of ?account=EMAIL or ?address=IP"))
		return
	}
	if !s.throttle.lift(account, addr) {
		fail(w, http.StatusNotFound, errors.New("no failed sign-ins are recorded for that account or address"))
		return
	}
	s.log.Warn("lockout lifted", "account", logValue(account), "address", logValue(addr), "by", "operator token", "from", s.clientAddr(r))
	writeJSON(w, http.StatusOK, map[string]string{"status": "lifted"})
}
