package serve

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/idgraph/idgraph/review"
	"github.com/idgraph/idgraph/store"
)

// Decide records a reviewer's decision by the review rules (the same as
// `idgraph decide`), returning the HTTP status that fits the outcome.
func (s *Server) Decide(ctx context.Context, who, key string, req review.Request) (*store.Decision, int, error) {
	req.Reviewer, req.Now = who, s.o.Now()
	d, f, err := s.o.Store.Submit(ctx, s.o.Review, key, req)
	if err != nil {
		return nil, decideStatus(err), err
	}
	s.log.Info("decision recorded", "finding", f.Key, "decision", d.Decision, "reviewer", who, "pending", d.Pending())
	return d, http.StatusCreated, nil
}

// Confirm records who as the second reviewer of the decision about key
// that waits for one.
func (s *Server) Confirm(ctx context.Context, who, key string) (*store.Decision, int, error) {
	d, f, err := s.o.Store.ConfirmFinding(ctx, s.o.Review, key, who, s.o.Now())
	if err != nil {
		return nil, decideStatus(err), err
	}
	s.log.Info("decision confirmed", "finding", f.Key, "decision", d.Decision, "reviewer", d.Reviewer, "second_reviewer", who)
	return d, http.StatusCreated, nil
}

func decideStatus(err error) int {
	switch {
	case errors.Is(err, review.ErrSelfReview):
		return http.StatusForbidden
	case errors.Is(err, review.ErrRefused):
		return http.StatusBadRequest
	case errors.Is(err, store.ErrNoFinding):
		return http.StatusNotFound
	case errors.Is(err, store.ErrNoSnapshot):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// decideFields are the fields of the decision form that a reviewer types;
// they survive a refusal and a sign-in.
var decideFields = []string{"finding", "decision", "justification", "role", "expires", "confirm", "back"}

// backURL is where a decision form returns: the findings page with the
// filters it was sent from, never another page or host.
func backURL(v string) *url.URL {
	back, err := url.Parse(v)
	if !localPath(v) || err != nil || (back.Path != "/findings" && back.Path != "/reviews") {
		return &url.URL{Path: "/findings"}
	}
	return back
}

func (s *Server) formDecide(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if !s.checkForm(r) {
		// A form from before a restart or from another session: the typed
		// decision is offered again, with a fresh token, instead of lost.
		s.decideAgain(w, r, http.StatusForbidden, errors.New("the form had expired, so nothing was recorded: check the decision and record it again"))
		return
	}
	back := backURL(r.PostFormValue("back"))
	key := r.PostFormValue("finding")
	var status int
	var err error
	if r.PostFormValue("confirm") != "" {
		_, status, err = s.Confirm(r.Context(), reviewer(r), key)
	} else {
		req := review.Request{Decision: r.PostFormValue("decision"), Justification: r.PostFormValue("justification"), Role: r.PostFormValue("role")}
		if req.Expires, err = parseDate(r.PostFormValue("expires")); err != nil {
			status = http.StatusBadRequest
		} else {
			_, status, err = s.Decide(r.Context(), reviewer(r), key, req)
		}
	}
	if err != nil {
		// The page is shown again at once, with the filters it was sent
		// from, the error on the row and what the reviewer typed.
		s.renderFindings(w, r, status, back.Query(), &rowError{Key: key, Err: err.Error(), Form: r.PostForm})
		return
	}
	q := back.Query()
	q.Del("msg")
	q.Del("err")
	if r.PostFormValue("confirm") != "" {
		q.Set("msg", "decision confirmed")
	} else {
		q.Set("msg", "decision recorded")
	}
	back.RawQuery = q.Encode()
	back.Fragment = ""
	http.Redirect(w, r, back.String(), http.StatusSeeOther)
}

// rowError is a refused decision, shown on its row with the typed input.
type rowError struct {
	Key  string
	Err  string
	Form url.Values
}

// Value returns a typed field, for the template.
func (e *rowError) Value(name string) string {
	if e == nil {
		return ""
	}
	return e.Form.Get(name)
}

// decideAgainPage answers GET /findings/decide: the sign-in redirect of a
// decision whose session had ended lands here with the typed fields in the
// query, and the reviewer records it with one click (never without).
func (s *Server) decideAgainPage(w http.ResponseWriter, r *http.Request) {
	s.decideAgain(w, r, http.StatusOK, nil)
}

func (s *Server) decideAgain(w http.ResponseWriter, r *http.Request, status int, err error) {
	vals := url.Values{}
	src := r.URL.Query()
	if r.Method == http.MethodPost {
		src = r.PostForm
	}
	for _, k := range decideFields {
		if v := src.Get(k); v != "" {
			vals.Set(k, v)
		}
	}
	if vals.Get("finding") == "" {
		http.Redirect(w, r, "/findings", http.StatusSeeOther)
		return
	}
	vals.Set("back", backURL(vals.Get("back")).String())
	data := map[string]any{"F": vals}
	if err != nil {
		data["Err"] = err.Error()
	}
	s.renderStatus(w, r, status, "decide", data)
}

// keepDecision sends a decision form whose sender is not signed in (the
// session ended while the reviewer typed) to sign in with the typed fields
// in the sign-in's next address, so that nothing is lost; a signed-in
// sender goes on to authentication and the form as usual.
func (s *Server) keepDecision(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			ck, err := r.Cookie(sessionCookie)
			if err != nil || s.session(r.Context(), ck.Value).who == "" {
				r.ParseForm()
				vals := url.Values{}
				for _, k := range decideFields {
					if v := r.PostFormValue(k); v != "" {
						vals.Set(k, v)
					}
				}
				http.Redirect(w, r, "/login?next="+url.QueryEscape("/findings/decide?"+vals.Encode()), http.StatusSeeOther)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
