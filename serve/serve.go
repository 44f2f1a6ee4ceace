// Package serve is `idgraph serve`: scheduled runs (never two at once), a
// review web UI, a JSON API under /api/v1/ and Prometheus metrics, all
// behind authentication except /healthz and /readyz.
package serve

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/robfig/cron/v3"

	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/pipeline"
	"github.com/idgraph/idgraph/report/alert"
	"github.com/idgraph/idgraph/store"
)

// RunResult is what one scheduled or manual run produced.
type RunResult struct {
	Outcome *pipeline.Outcome
	Alerts  alert.Result
}

// Options configures the service.
type Options struct {
	Store   *store.Store
	Run     func(ctx context.Context) (*RunResult, error) // one full run: collect, store, alert, report
	Token   string                                        // bearer token; "" disables bearer access
	Users   map[string]string                             // reviewer -> password
	Logger  *slog.Logger
	Version string
	Now     func() time.Time
}

// Server is the service.
type Server struct {
	o       Options
	log     *slog.Logger
	key     []byte // signs session cookies and CSRF tokens
	mu      sync.Mutex
	running bool
	runs    sync.WaitGroup // the run under way, for Stop
	lastErr string
	m       *metrics
	cron    *cron.Cron
	ready   bool
}

// ErrBusy is returned when a run is already under way.
var ErrBusy = errors.New("a run is already under way")

// New builds the service.
func New(o Options) (*Server, error) {
	if o.Token == "" && len(o.Users) == 0 {
		return nil, errors.New("serve needs serve.token_env or serve.users_env: every page but /healthz requires authentication")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	s := &Server{o: o, log: o.Logger, key: key, m: newMetrics(), ready: true}
	return s, nil
}

// Schedule starts runs on a cron expression (five fields).
func (s *Server) Schedule(spec string) error {
	c := cron.New(cron.WithLogger(cron.DiscardLogger))
	if _, err := c.AddFunc(spec, func() {
		if err := s.RunNow(context.Background(), "schedule"); err != nil && !errors.Is(err, ErrBusy) {
			s.log.Error("scheduled run failed", "error", err)
		}
	}); err != nil {
		return fmt.Errorf("serve.schedule %q: %w", spec, err)
	}
	s.cron = c
	c.Start()
	return nil
}

// Stop stops scheduling and waits for a run under way to finish, so that
// the store is left consistent.
func (s *Server) Stop() {
	s.mu.Lock()
	s.ready = false
	s.mu.Unlock()
	if s.cron != nil {
		<-s.cron.Stop().Done()
	}
	s.runs.Wait()
}

// Running reports whether a run is under way.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// RunNow performs a run unless one is under way.
func (s *Server) RunNow(ctx context.Context, why string) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return ErrBusy
	}
	s.running = true
	s.runs.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
		s.runs.Done()
	}()
	start := time.Now()
	s.log.Info("run started", "trigger", why)
	res, err := s.o.Run(ctx)
	s.m.observe(res, err, time.Since(start))
	s.mu.Lock()
	s.lastErr = ""
	if err != nil {
		s.lastErr = err.Error()
	}
	s.mu.Unlock()
	return err
}

// Handler is the HTTP interface.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	auth := http.NewServeMux()
	auth.Handle("GET /metrics", promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{}))
	auth.HandleFunc("GET /api/v1/snapshots", s.apiSnapshots)
	auth.HandleFunc("GET /api/v1/findings", s.apiFindings)
	auth.HandleFunc("GET /api/v1/people/{id...}", s.apiPerson)
	auth.HandleFunc("GET /api/v1/decisions", s.apiDecisions)
	auth.HandleFunc("POST /api/v1/decisions", s.apiDecide)
	auth.HandleFunc("POST /api/v1/runs", s.apiRun)
	auth.HandleFunc("GET /{$}", s.pageHome)
	auth.HandleFunc("GET /findings", s.pageFindings)
	auth.HandleFunc("POST /findings/decide", s.formDecide)
	auth.HandleFunc("GET /people/{id...}", s.pagePerson)
	auth.HandleFunc("GET /drift", s.pageDrift)
	auth.HandleFunc("GET /download/{file}", s.download)
	auth.HandleFunc("POST /runs", s.formRun)
	mux.Handle("/", s.authenticate(auth))
	return secure(mux)
}

func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'")
		h.ServeHTTP(w, r)
	})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ready := s.ready
	s.mu.Unlock()
	if err := s.o.Store.DB().PingContext(r.Context()); err != nil || !ready {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
}

type ctxKey struct{}

// reviewer returns who the request acts for.
func reviewer(r *http.Request) string {
	v, _ := r.Context().Value(ctxKey{}).(string)
	return v
}

// authenticate accepts a bearer token, basic-auth credentials, or the
// session cookie of the login form.
func (s *Server) authenticate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who := ""
		if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") && s.o.Token != "" {
			if subtle.ConstantTimeCompare([]byte(strings.TrimPrefix(a, "Bearer ")), []byte(s.o.Token)) == 1 {
				who = "token"
			}
		} else if u, p, ok := r.BasicAuth(); ok && s.checkUser(u, p) {
			who = u
		} else if c, err := r.Cookie(sessionCookie); err == nil {
			who = s.session(c.Value)
		}
		if who == "" {
			if strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/metrics" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="idgraph", Basic realm="idgraph"`)
				writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "authentication required: a bearer token or basic-auth credentials"})
				return
			}
			http.Redirect(w, r, "/login?next="+urlEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, who)))
	})
}

func (s *Server) checkUser(u, p string) bool {
	want, ok := s.o.Users[u]
	// Compare anyway, so that timing does not tell which users exist.
	eq := subtle.ConstantTimeCompare([]byte(p), []byte(want)) == 1
	return ok && eq && want != ""
}

const sessionCookie = "idgraph_session"

func (s *Server) sign(v string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(v))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) newSession(user string) string {
	v := base64.RawURLEncoding.EncodeToString([]byte(user)) + "." + strconv.FormatInt(s.o.Now().Add(12*time.Hour).Unix(), 10)
	return v + "." + s.sign(v)
}

// session returns the user of a valid, unexpired session value.
func (s *Server) session(v string) string {
	i := strings.LastIndexByte(v, '.')
	if i < 0 || !hmac.Equal([]byte(s.sign(v[:i])), []byte(v[i+1:])) {
		return ""
	}
	parts := strings.SplitN(v[:i], ".", 2)
	if len(parts) != 2 {
		return ""
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || s.o.Now().Unix() > exp {
		return ""
	}
	u, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return ""
	}
	return string(u)
}

// csrf is the token every form of a session carries.
func (s *Server) csrf(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	return s.sign("csrf:" + c.Value)
}

// checkForm accepts a form post from a session with its CSRF token, or
// from basic or bearer authentication (no ambient cookie involved).
func (s *Server) checkForm(r *http.Request) bool {
	if _, err := r.Cookie(sessionCookie); err != nil {
		return true
	}
	return hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(s.csrf(r)))
}

// Decide records a reviewer's decision after checking it.
func (s *Server) Decide(ctx context.Context, who, key, decision, justification string, expires time.Time) (*store.Decision, int, error) {
	if who == "" || who == "token" {
		return nil, http.StatusBadRequest, errors.New("a decision needs a named reviewer: sign in, or use basic-auth credentials")
	}
	switch decision {
	case "approve":
		if expires.IsZero() {
			return nil, http.StatusBadRequest, errors.New("an approval needs an expiry date")
		}
		if !expires.After(s.o.Now()) {
			return nil, http.StatusBadRequest, errors.New("the expiry date is in the past")
		}
	case "revoke", "exception":
	default:
		return nil, http.StatusBadRequest, fmt.Errorf("decision must be approve, revoke or exception, not %q", decision)
	}
	if strings.TrimSpace(justification) == "" {
		return nil, http.StatusBadRequest, errors.New("a justification is required")
	}
	sum, err := s.o.Store.Get(ctx, 0)
	if err != nil {
		return nil, http.StatusConflict, err
	}
	fs, err := s.o.Store.Findings(ctx, sum.ID)
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	var f *diff.Finding
	for i := range fs {
		if fs[i].Key == key || fs[i].ID == key {
			f = &fs[i]
		}
	}
	if f == nil {
		return nil, http.StatusNotFound, fmt.Errorf("the latest snapshot has no finding %q", key)
	}
	if decision != "revoke" && aboutReviewer(f, who) {
		return nil, http.StatusForbidden, errors.New("a reviewer cannot approve a finding about themselves")
	}
	d := &store.Decision{FindingKey: f.Key, Decision: decision, Justification: strings.TrimSpace(justification), Reviewer: who,
		DecidedAt: s.o.Now().UTC(), SnapshotID: sum.ID}
	if decision == "approve" {
		d.ExpiresAt = expires.UTC()
	}
	if err := s.o.Store.Decide(ctx, d); err != nil {
		return nil, http.StatusInternalServerError, err
	}
	s.log.Info("decision recorded", "finding", f.Key, "decision", decision, "reviewer", who)
	return d, http.StatusCreated, nil
}

func aboutReviewer(f *diff.Finding, who string) bool {
	who = strings.ToLower(strings.TrimSpace(who))
	if strings.EqualFold(f.Email, who) {
		return true
	}
	for _, e := range f.Evidence {
		if strings.EqualFold(e.Email, who) {
			return true
		}
	}
	return false
}

// metrics are the service's Prometheus metrics, on a registry of its own.
type metrics struct {
	reg        *prometheus.Registry
	runs       *prometheus.CounterVec
	duration   prometheus.Histogram
	records    *prometheus.GaugeVec
	complete   *prometheus.GaugeVec
	findings   *prometheus.GaugeVec
	lastOK     prometheus.Gauge
	deliveries *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry(),
		runs:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idgraph_runs_total", Help: "Runs by result: ok, incomplete, failed."}, []string{"result"}),
		duration:   prometheus.NewHistogram(prometheus.HistogramOpts{Name: "idgraph_run_duration_seconds", Help: "Duration of runs.", Buckets: prometheus.ExponentialBuckets(1, 2, 14)}),
		records:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "idgraph_source_records", Help: "Records read per source in the last run."}, []string{"source"}),
		complete:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "idgraph_source_complete", Help: "1 if the source was complete in the last run."}, []string{"source"}),
		findings:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "idgraph_findings", Help: "Open findings of the last run by kind and severity."}, []string{"kind", "severity"}),
		lastOK:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "idgraph_last_success_timestamp_seconds", Help: "Unix time of the last run with every source complete."}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idgraph_alert_deliveries_total", Help: "Alert deliveries by result."}, []string{"result"}),
	}
	m.reg.MustRegister(m.runs, m.duration, m.records, m.complete, m.findings, m.lastOK, m.deliveries,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(res *RunResult, err error, d time.Duration) {
	m.duration.Observe(d.Seconds())
	switch {
	case err != nil || res == nil || res.Outcome == nil:
		m.runs.WithLabelValues("failed").Inc()
		return
	case len(res.Outcome.Incomplete) > 0:
		m.runs.WithLabelValues("incomplete").Inc()
	default:
		m.runs.WithLabelValues("ok").Inc()
		m.lastOK.SetToCurrentTime()
	}
	for _, src := range res.Outcome.Snapshot.Sources {
		m.records.WithLabelValues(src.Info.Name).Set(float64(src.Completeness.Records))
		c := 0.0
		if src.Completeness.Complete {
			c = 1
		}
		m.complete.WithLabelValues(src.Info.Name).Set(c)
	}
	m.findings.Reset()
	for _, f := range res.Outcome.Snapshot.Findings {
		if f.State == diff.StateOpen {
			m.findings.WithLabelValues(f.Kind, f.Severity).Inc()
		}
	}
	m.deliveries.WithLabelValues("delivered").Add(float64(res.Alerts.Delivered))
	m.deliveries.WithLabelValues("pending").Add(float64(res.Alerts.Pending))
}
