package serve

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idgraph/idgraph/remediation"
)

// The "changes waiting" page (docs/RULES.md, "Remediation"): the plan of
// the approved revokes and modifications, and a reviewer other than each
// decider approving and applying it, after seeing exactly what will run.
// The service never builds the sources that act: the command hands it
// the plan and apply of a remediation.Engine.

// RemediationOptions is what the "changes waiting" page needs.
type RemediationOptions struct {
	// Plan returns the plan of app ("" for every application); nil: the
	// page says that remediation is not configured for this service.
	Plan func(ctx context.Context, app string) (*remediation.Plan, error)
	// Apply carries out (or, without Yes, dry-runs) a request; nil: the
	// page shows the plan without controls.
	Apply func(ctx context.Context, req remediation.Request) (*remediation.Result, error)
	// Enabled is remediation.enabled, for the page to say that the kill
	// switch is on before anyone tries.
	Enabled bool
}

//go:embed remediation.html.tmpl
var remediationFS embed.FS

// remediationPages is the layout of pages.go with this page's templates.
var remediationPages = template.Must(template.Must(pages.Clone()).Funcs(template.FuncMap{
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
}).ParseFS(remediationFS, "remediation.html.tmpl"))

// remediationRoutes adds the "changes waiting" page and its controls.
func (s *Server) remediationRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /remediation", s.pageRemediation)
	mux.HandleFunc("POST /remediation/apply", s.formApply)
	if err := s.m.reg.Register(&actionMetrics{s: s}); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) { // a second Handler of one Server registers them again
			s.log.Error("registering the remediation metrics", "error", err)
		}
	}
}

func (s *Server) renderRemediation(w http.ResponseWriter, r *http.Request, status int, name string, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	data["Enabled"] = s.o.Remediation.Enabled
	s.renderSet(w, r, remediationPages, status, name, data)
}

// appView is one application's plan as the viewer may act on it.
type appView struct {
	*remediation.AppPlan
	Mine     map[string]bool // items the viewer decided: another reviewer applies them
	Runnable int             // items the viewer may apply
}

func views(p *remediation.Plan, who string) []appView {
	var out []appView
	for i := range p.Apps {
		v := appView{AppPlan: &p.Apps[i], Mine: map[string]bool{}}
		for _, it := range v.Items {
			switch {
			case strings.EqualFold(it.DecidedBy, who):
				v.Mine[it.ID] = true
			case it.Manual == "":
				v.Runnable++
			}
		}
		out = append(out, v)
	}
	return out
}

func (s *Server) pageRemediation(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	data := map[string]any{"Msg": r.URL.Query().Get("msg")}
	if s.o.Remediation.Plan == nil {
		data["NotConfigured"] = true
		s.renderRemediation(w, r, http.StatusOK, "remediation", data)
		return
	}
	p, err := s.o.Remediation.Plan(ctx, "")
	if err != nil {
		st, err := s.lookup(err, 0)
		s.pageError(w, r, st, err)
		return
	}
	status, err := remediation.StatusOf(ctx, s.o.Store, "")
	if err != nil {
		s.pageError(w, r, http.StatusInternalServerError, err)
		return
	}
	data["Plan"], data["Apps"], data["Status"] = p, views(p, reviewer(r)), status
	data["CanApply"] = s.o.Remediation.Apply != nil && namedReviewer(r)
	s.renderRemediation(w, r, http.StatusOK, "remediation", data)
}

// namedReviewer reports whether the request acts for a person: the bearer
// token is a machine's, and applying needs a reviewer to record.
func namedReviewer(r *http.Request) bool {
	c := callerOf(r)
	return c.via != viaBearer && c.who != ""
}

// formApply shows what applying an application's plan would run (the
// first post) and carries it out once the reviewer confirms that exact
// plan (the second, with confirm set). The service records the reviewer
// as the approver and applier of every action; an action the reviewer
// decided is refused.
func (s *Server) formApply(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if !s.checkForm(r) {
		s.pageError(w, r, http.StatusForbidden, errors.New("the form had expired, so nothing was applied: open Changes waiting again"))
		return
	}
	if s.o.Remediation.Apply == nil {
		s.pageError(w, r, http.StatusNotFound, errors.New("remediation is not configured for this service"))
		return
	}
	if !namedReviewer(r) {
		s.pageError(w, r, http.StatusForbidden, errors.New("applying changes needs a signed-in reviewer (not the bearer token): the reviewer is recorded as the one who approved them"))
		return
	}
	app := strings.TrimSpace(r.PostFormValue("app"))
	digest := r.PostFormValue("digest")
	if app == "" || digest == "" {
		s.pageError(w, r, http.StatusBadRequest, errors.New("choose an application's plan on Changes waiting"))
		return
	}
	who := reviewer(r)
	yes := r.PostFormValue("confirm") != ""
	req := remediation.Request{App: app, Yes: yes, Applier: who, Digests: map[string]string{app: digest}}
	ctx := r.Context()
	if yes {
		// The batch outlives a closed browser tab: once approved, it runs to
		// its end (or its sources' deadline) and is recorded whole.
		ctx = context.WithoutCancel(ctx)
	}
	res, err := s.o.Remediation.Apply(ctx, req)
	status := http.StatusOK
	switch {
	case errors.Is(err, remediation.ErrDisabled):
		status = http.StatusForbidden
	case errors.Is(err, remediation.ErrRefused):
		status = http.StatusConflict
	case errors.Is(err, remediation.ErrStopped):
		status = http.StatusBadGateway
	case err != nil:
		st, err2 := s.lookup(err, 0)
		s.pageError(w, r, st, err2)
		return
	}
	if res == nil {
		if status == http.StatusOK {
			status = http.StatusInternalServerError
		}
		s.pageError(w, r, status, err)
		return
	}
	ap := res.Plan.App(app)
	data := map[string]any{"App": app, "Result": res, "Applied": yes, "Err": ""}
	if ap != nil {
		data["AppPlan"], data["Digest"] = ap, ap.Digest
	}
	if err != nil {
		data["Err"] = err.Error()
	}
	if yes {
		s.log.Info("remediation applied", "app", app, "reviewer", who, "outcomes", res.Counts(), "error", err)
	}
	s.renderRemediation(w, r, status, "remediation-apply", data)
}

// actionMetrics exposes the remediation log as Prometheus metrics, read
// from the store at each scrape, so that a restart does not reset them.
type actionMetrics struct{ s *Server }

var (
	mPlanned     = prometheus.NewDesc("idgraph_remediation_planned_actions", "Actions planned from the decisions in force, that idgraph can carry out, by application.", []string{"app"}, nil)
	mManual      = prometheus.NewDesc("idgraph_remediation_manual_actions", "Actions planned that must be carried out by hand, by application.", []string{"app"}, nil)
	mApplied     = prometheus.NewDesc("idgraph_remediation_applied_actions_total", "Actions carried out (done or already done), by application.", []string{"app"}, nil)
	mConfirmed   = prometheus.NewDesc("idgraph_remediation_confirmed_actions_total", "Actions a later complete read confirmed, by application.", []string{"app"}, nil)
	mUnconfirmed = prometheus.NewDesc("idgraph_remediation_unconfirmed_actions_total", "Actions a later complete read did not confirm, by application.", []string{"app"}, nil)
	mFailed      = prometheus.NewDesc("idgraph_remediation_failed_actions_total", "Actions that failed (the application refused, or its state is unknown), by application.", []string{"app"}, nil)
	mPending     = prometheus.NewDesc("idgraph_remediation_pending_actions", "Actions carried out and waiting for the confirming read, by application.", []string{"app"}, nil)
)

func (m *actionMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{mPlanned, mManual, mApplied, mConfirmed, mUnconfirmed, mFailed, mPending} {
		ch <- d
	}
}

func (m *actionMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if plan := m.s.o.Remediation.Plan; plan != nil {
		if p, err := plan(ctx, ""); err == nil {
			for _, ap := range p.Apps {
				auto := len(ap.Auto())
				ch <- prometheus.MustNewConstMetric(mPlanned, prometheus.GaugeValue, float64(auto), ap.App)
				ch <- prometheus.MustNewConstMetric(mManual, prometheus.GaugeValue, float64(len(ap.Items)-auto), ap.App)
			}
		} else if !errors.Is(err, context.Canceled) {
			m.s.log.Debug("remediation metrics: no plan", "error", err)
		}
	}
	st, err := remediation.StatusOf(ctx, m.s.o.Store, "")
	if err != nil {
		m.s.log.Error("remediation metrics: reading the remediation log", "error", err)
		return
	}
	type counts struct{ applied, confirmed, unconfirmed, failed, pending int }
	by := map[string]*counts{}
	for _, a := range st.Actions {
		c := by[a.App]
		if c == nil {
			c = &counts{}
			by[a.App] = c
		}
		switch a.State {
		case remediation.StatePending:
			c.applied++
			c.pending++
		case remediation.StateConfirmed:
			c.applied++
			c.confirmed++
		case remediation.StateUnconfirmed:
			c.applied++
			c.unconfirmed++
		case "failed":
			c.failed++
		}
	}
	for app, c := range by {
		ch <- prometheus.MustNewConstMetric(mApplied, prometheus.CounterValue, float64(c.applied), app)
		ch <- prometheus.MustNewConstMetric(mConfirmed, prometheus.CounterValue, float64(c.confirmed), app)
		ch <- prometheus.MustNewConstMetric(mUnconfirmed, prometheus.CounterValue, float64(c.unconfirmed), app)
		ch <- prometheus.MustNewConstMetric(mFailed, prometheus.CounterValue, float64(c.failed), app)
		ch <- prometheus.MustNewConstMetric(mPending, prometheus.GaugeValue, float64(c.pending), app)
	}
}
