package serve

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/review"
	"github.com/idgraph/idgraph/store"
)

// The campaign pages (docs/RULES.md, "Review"): each signed-in reviewer's
// queue of open campaigns with progress ("My reviews", /reviews), and an
// overview of every campaign by reviewer (/campaigns). Decisions made from
// the queue follow the review rules as every other entry point does: the
// store checks them (DecideItem, ConfirmItem) by review.Check against the
// item as the campaign froze it, and refuses any once the campaign is
// signed off.

//go:embed campaigns.html.tmpl
var campaignsFS embed.FS

// campaignPages is the pages set with the campaign templates added, so
// that they share its layout (head, nav) and functions.
var campaignPages = template.Must(template.Must(pages.Clone()).Funcs(template.FuncMap{
	// decideURL is the existing decision form (decide.go) for a finding,
	// which returns to the findings page.
	"decideURL": func(key string) string {
		return "/findings/decide?" + url.Values{"finding": {key}, "back": {"/findings"}}.Encode()
	},
}).ParseFS(campaignsFS, "campaigns.html.tmpl"))

// CampaignOptions is what the campaign pages need.
type CampaignOptions struct {
	// Hidden turns the pages off (404), for a deployment that runs its
	// campaigns elsewhere.
	Hidden bool
}

// campaignRoutes adds the campaign pages: each reviewer's queue.
func (s *Server) campaignRoutes(mux *http.ServeMux) {
	if s.o.Campaigns.Hidden {
		return
	}
	mux.HandleFunc("GET /reviews", s.pageReviews)
	mux.HandleFunc("POST /reviews/decide", s.formReviewDecide)
	mux.HandleFunc("GET /campaigns", s.pageCampaigns)
	mux.HandleFunc("GET /campaigns/{id}/evidence/{file}", s.downloadPack)
}

// packFiles are the files of an evidence pack the UI serves, in the
// order the overview links them.
var packFiles = []string{report.PackSummary, report.PackManifestFile, report.PackCampaign, report.PackPopulation, report.PackItems, report.PackFindings,
	report.PackAccounts, report.PackDecisions, report.PackRemediation}

// downloadPack serves one file of a campaign's evidence pack, the same
// bytes as `idgraph evidence` writes: as of the sign-off (an open
// campaign: now), or ?as_of= (a date or RFC 3339 time), so that a download
// can be made again, byte for byte, with the moment its manifest names.
func (s *Server) downloadPack(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		http.Error(w, "the campaign is a number", http.StatusBadRequest)
		return
	}
	file := r.PathValue("file")
	if !slices.Contains(packFiles, file) {
		http.NotFound(w, r)
		return
	}
	asOf, err := parseDate(r.URL.Query().Get("as_of"))
	if err != nil {
		http.Error(w, "as_of must be a date (YYYY-MM-DD) or an RFC 3339 time", http.StatusBadRequest)
		return
	}
	files, m, err := report.BuildPack(r.Context(), s.o.Store, id, report.PackOptions{AsOf: asOf, Now: s.o.Now(), Version: s.o.Version})
	switch {
	case errors.Is(err, store.ErrNoCampaign):
		http.Error(w, fmt.Sprintf("there is no campaign %d", id), http.StatusNotFound) // never the store's path
		return
	case err != nil:
		s.log.Error("building an evidence pack", "campaign", id, "error", err)
		http.Error(w, "the evidence pack could not be built; the service log says why", http.StatusInternalServerError)
		return
	}
	ct := "text/csv; charset=utf-8"
	if strings.HasSuffix(file, ".json") {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="campaign-`+strconv.FormatInt(id, 10)+"-"+file+`"`)
	w.Header().Set("X-Idgraph-Decisions-As-Of", m.DecisionsAsOf)
	w.Header().Set("X-Idgraph-Chain-Head", m.ChainHead)
	w.Write(files[file])
}

func (s *Server) renderCampaign(w http.ResponseWriter, r *http.Request, status int, name string, data map[string]any) {
	s.renderSet(w, r, campaignPages, status, name, data)
}

// queue is one campaign's items for one reviewer.
type queue struct {
	Campaign *store.Campaign
	Progress review.Progress
	Items    []store.ItemReview
}

// signedInReviewer is the reviewer a request names, or "" for a bearer
// token, which names nobody.
func signedInReviewer(r *http.Request) string {
	who := review.Fold(reviewer(r))
	if who == "token" {
		return ""
	}
	return who
}

func (s *Server) pageReviews(w http.ResponseWriter, r *http.Request) {
	s.renderReviews(w, r, http.StatusOK, r.URL.Query().Get("msg"), nil)
}

// renderReviews shows the signed-in reviewer's queues; re, when set, is a
// refused decision, shown on its row with what the reviewer typed.
func (s *Server) renderReviews(w http.ResponseWriter, r *http.Request, status int, msg string, re *rowError) {
	ctx := r.Context()
	who := signedInReviewer(r)
	var qs []queue
	if who != "" {
		cs, err := s.o.Store.Campaigns(ctx)
		if err != nil {
			s.pageError(w, r, http.StatusInternalServerError, err)
			return
		}
		for i := len(cs) - 1; i >= 0; i-- { // oldest (first due) first
			if !cs[i].Open() {
				continue
			}
			rv, err := s.o.Store.ReviewCampaign(ctx, cs[i].ID, s.o.Now())
			if err != nil {
				s.pageError(w, r, http.StatusInternalServerError, err)
				return
			}
			p := rv.ByReviewer[who]
			if p == nil {
				continue
			}
			q := queue{Campaign: rv.Campaign, Progress: *p}
			for _, it := range rv.Items {
				if it.Reviewer == who {
					q.Items = append(q.Items, it)
				}
			}
			qs = append(qs, q)
		}
	}
	data := map[string]any{"Who": who, "Queues": qs, "Kinds": review.Kinds, "RowErr": re, "Msg": msg}
	if re != nil {
		// An item no longer in any open queue (its campaign was signed
		// off meanwhile) has no row to show its error on.
		shown := false
		for _, q := range qs {
			for _, it := range q.Items {
				shown = shown || it.Key == re.Key || it.ID == re.Key
			}
		}
		if !shown {
			data["Err"] = "Not recorded: " + re.Err
		}
	}
	s.renderCampaign(w, r, status, "reviews", data)
}

// campaignView is a campaign on the overview page.
type campaignView struct {
	*store.CampaignReview
}

func (s *Server) pageCampaigns(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	cs, err := s.o.Store.Campaigns(ctx)
	if err != nil {
		s.pageError(w, r, http.StatusInternalServerError, err)
		return
	}
	var views []campaignView
	for _, c := range cs {
		rv, err := s.o.Store.ReviewCampaign(ctx, c.ID, s.o.Now())
		if err != nil {
			s.pageError(w, r, http.StatusInternalServerError, err)
			return
		}
		views = append(views, campaignView{rv})
	}
	s.renderCampaign(w, r, http.StatusOK, "campaigns", map[string]any{"Campaigns": views, "PackFiles": packFiles})
}

func (s *Server) formReviewDecide(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if !s.checkForm(r) {
		s.pageError(w, r, http.StatusForbidden, errors.New("the form had expired, so nothing was recorded: reload the page and record the decision again"))
		return
	}
	who := signedInReviewer(r)
	key := r.PostFormValue("item")
	id, err := strconv.ParseInt(r.PostFormValue("campaign"), 10, 64)
	if err != nil || who == "" {
		status, msg := http.StatusBadRequest, errors.New("the form names no campaign")
		if who == "" {
			status, msg = http.StatusForbidden, errors.New("a decision needs a signed-in reviewer: a token names nobody")
		}
		s.pageError(w, r, status, msg)
		return
	}
	ctx := r.Context()
	var d *store.Decision
	var it *store.CampaignItem
	confirm := r.PostFormValue("confirm") != ""
	if confirm {
		d, it, err = s.o.Store.ConfirmItem(ctx, s.o.Review, id, key, who, s.o.Now())
	} else {
		req := review.Request{Decision: r.PostFormValue("decision"), Justification: r.PostFormValue("justification"), Role: r.PostFormValue("role"),
			Reviewer: who, Now: s.o.Now()}
		if req.Expires, err = parseDate(r.PostFormValue("expires")); err != nil {
			err = fmt.Errorf("%w: the date must read YYYY-MM-DD", review.ErrRefused)
		} else {
			d, it, err = s.o.Store.DecideItem(ctx, s.o.Review, id, key, req)
		}
	}
	if err != nil {
		status := decideStatus(err)
		if errors.Is(err, store.ErrNoCampaign) {
			status = http.StatusNotFound
		}
		s.renderReviews(w, r, status, "", &rowError{Key: key, Err: err.Error(), Form: r.PostForm})
		return
	}
	s.log.Info("decision recorded", "campaign", id, "item", it.Key, "decision", d.Decision, "reviewer", d.Reviewer,
		"confirmed_by", d.ConfirmedBy, "pending", d.Pending())
	msg := "decision recorded"
	if confirm {
		msg = "decision confirmed"
	}
	http.Redirect(w, r, "/reviews?msg="+url.QueryEscape(msg)+"#item-"+url.PathEscape(it.ID), http.StatusSeeOther)
}
