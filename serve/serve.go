// Package serve is `idgraph serve`: scheduled runs (never two at once), a
// review web UI, a JSON API under /api/v1/ and Prometheus metrics, all
// behind authentication except /healthz and /readyz.
package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/robfig/cron/v3"

	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/graph"
	"github.com/idgraph/idgraph/report/alert"
	"github.com/idgraph/idgraph/store"
)

// RunResult is what one scheduled or manual run produced.
type RunResult struct {
	Snapshot   *store.Snapshot // the snapshot stored
	Incomplete []string        // sources that were incomplete, with why
	Alerts     alert.Result
}

// Options configures the service.
type Options struct {
	Store *store.Store
	// Normalizer matches a searched address as correlation matched the
	// accounts (domain aliases, plus-addressing); nil: case and Unicode only.
	Normalizer *graph.Normalizer
	Run        func(ctx context.Context) (*RunResult, error) // one full run: collect, store, alert, report
	Token      string                                        // bearer token; "" disables bearer access
	Users      map[string]string                             // reviewer -> password
	// SessionSecret keys the ids under which sessions are stored and the
	// CSRF tokens of forms; required with Users, at least 32 bytes.
	SessionSecret []byte
	// TLSCertFile and TLSKeyFile make Serve answer HTTPS.
	TLSCertFile, TLSKeyFile string
	// TrustProxy believes X-Forwarded-Proto, -Host and -For: set it only
	// when a reverse proxy in front of the service sets them.
	TrustProxy bool
	Logger     *slog.Logger
	Version    string
	Now        func() time.Time
	// Review is the review policy (longest approval, privileged roles)
	// and the evidence log file that decisions are appended to.
	Review store.Reviewing
	// Campaigns and Remediation configure those pages (campaigns.go,
	// remediation.go).
	Campaigns   CampaignOptions
	Remediation RemediationOptions
}

// Server is the service.
type Server struct {
	o        Options
	log      *slog.Logger
	tls      *tls.Config // nil: plain HTTP
	mu       sync.Mutex
	running  bool
	stopping bool           // Stop was called: no new runs, /readyz answers 503
	runs     sync.WaitGroup // the run under way, for Stop
	lastErr  string
	m        *metrics
	cron     *cron.Cron
	throttle *throttle
}

// ErrBusy is returned when a run is already under way.
var ErrBusy = errors.New("a run is already under way")

// ErrStopping is returned for a run asked for while the service stops.
var ErrStopping = errors.New("the service is stopping")

// minSessionSecret is the shortest session secret accepted: 32 bytes, the
// size of the HMAC-SHA256 key it becomes.
const minSessionSecret = 32

// New builds the service and loads the metrics of the latest snapshot, so
// that a restart does not reset them.
func New(ctx context.Context, o Options) (*Server, error) {
	if o.Token == "" && len(o.Users) == 0 {
		return nil, errors.New("serve needs serve.token_env or serve.users_env: every page but /healthz requires authentication")
	}
	if len(o.Users) > 0 && len(o.SessionSecret) < minSessionSecret {
		return nil, fmt.Errorf("serve.users_env is set, so sign-in sessions need serve.session_secret_env: a variable holding at least %d random characters (e.g. the output of `openssl rand -base64 48`)", minSessionSecret)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{o: o, log: o.Logger, m: newMetrics(), throttle: newThrottle(o.Now)}
	if o.TLSCertFile != "" || o.TLSKeyFile != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCertFile, o.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("serve.tls_cert_file %s and serve.tls_key_file %s: %w (both must be PEM files: the certificate chain and its private key)", o.TLSCertFile, o.TLSKeyFile, err)
		}
		s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if err := s.m.restore(ctx, o.Store); err != nil {
		return nil, err
	}
	return s, nil
}

// Schedule starts runs on a cron expression (five fields, or CRON_TZ=Zone
// and five fields) in time zone loc (nil: the machine's local zone), and
// returns when the first run is due, in loc: "0 2 * * *" is 02:00 on
// loc's clocks, which follow its daylight saving time. A CRON_TZ= prefix
// wins over loc (robfig/cron's rule); the configuration refuses both.
func (s *Server) Schedule(spec string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.Local
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return time.Time{}, fmt.Errorf("serve.schedule %q: %w (five fields: minute hour day-of-month month day-of-week, e.g. \"0 2 * * *\")", spec, err)
	}
	c := cron.New(cron.WithLogger(cron.DiscardLogger), cron.WithLocation(loc))
	c.Schedule(sched, cron.FuncJob(func() {
		if err := s.RunNow(context.Background(), "schedule"); err != nil && !errors.Is(err, ErrBusy) {
			s.log.Error("scheduled run failed", "error", err)
		}
	}))
	s.cron = c
	c.Start()
	return sched.Next(s.o.Now().In(loc)), nil
}

// ZoneName names loc as the tz database does ("Europe/Paris"), also for
// the machine's local zone, which Go calls "Local" when it read it from
// /etc/localtime (a link into the database; when it is a copy instead,
// the zone has no name to give).
func ZoneName(loc *time.Location) string {
	if loc == nil {
		loc = time.Local
	}
	name := loc.String()
	if name == "Local" {
		target, err := os.Readlink("/etc/localtime")
		if err != nil {
			return "the machine's local time zone"
		}
		name = target
	}
	// A path into the database, from the link or from TZ=/usr/share/zoneinfo/….
	if _, zone, ok := strings.Cut(name, "zoneinfo/"); ok && zone != "" {
		return zone
	}
	return name
}

// Stop stops scheduling and waits for a run under way to finish, so that
// the store is left consistent. From its call on, /readyz answers 503 and
// no new run starts.
func (s *Server) Stop() {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	if s.cron != nil {
		<-s.cron.Stop().Done()
	}
	s.runs.Wait()
}

// Serve answers on ln (HTTPS when the options name a certificate) until
// ctx ends, then stops in an order that load balancers can follow: /readyz
// answers 503 at once while every other request is still served, the
// schedule stops, a run under way finishes, and only then does the
// listener close and the open requests drain.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, TLSConfig: s.tls,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() {
		if s.tls != nil {
			errc <- hs.ServeTLS(ln, "", "")
			return
		}
		errc <- hs.Serve(ln)
	}()
	select {
	case err := <-errc:
		s.Stop()
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	s.log.Warn("stopping: /readyz answers 503, no new runs; waiting for a run under way")
	s.Stop()
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("stopping the HTTP server: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Running reports whether a run is under way.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// RunNow performs a run unless one is under way or the service stops.
func (s *Server) RunNow(ctx context.Context, why string) error {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return ErrStopping
	}
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
	auth.HandleFunc("GET /api/v1/people", s.apiPeople)
	auth.HandleFunc("GET /api/v1/people/{id...}", s.apiPerson)
	auth.HandleFunc("GET /api/v1/decisions", s.apiDecisions)
	auth.HandleFunc("POST /api/v1/decisions", s.apiDecide)
	auth.HandleFunc("POST /api/v1/runs", s.apiRun)
	auth.HandleFunc("GET /api/v1/lockouts", s.apiLockouts)
	auth.HandleFunc("DELETE /api/v1/lockouts", s.apiLift)
	auth.HandleFunc("GET /{$}", s.pageHome)
	auth.HandleFunc("GET /findings", s.pageFindings)
	auth.HandleFunc("POST /findings/decide", s.formDecide)
	auth.HandleFunc("GET /findings/decide", s.decideAgainPage)
	auth.HandleFunc("GET /people", s.pagePeople)
	auth.HandleFunc("GET /people/{id...}", s.pagePerson)
	auth.HandleFunc("GET /drift", s.pageDrift)
	auth.HandleFunc("GET /download/{file}", s.download)
	auth.HandleFunc("POST /runs", s.formRun)
	s.campaignRoutes(auth)    // campaigns.go
	s.remediationRoutes(auth) // remediation.go
	mux.Handle("POST /findings/decide", s.keepDecision(s.authenticate(auth)))
	mux.Handle("/", s.authenticate(auth))
	return secure(s.sameOrigin(mux))
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
	stopping := s.stopping
	s.mu.Unlock()
	if stopping {
		http.Error(w, "stopping", http.StatusServiceUnavailable)
		return
	}
	if err := s.o.Store.DB().PingContext(r.Context()); err != nil {
		http.Error(w, "not ready: the store does not answer", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
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
		records:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "idgraph_source_records", Help: "Records read per source in the latest snapshot."}, []string{"source"}),
		complete:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "idgraph_source_complete", Help: "1 if the source was complete in the latest snapshot."}, []string{"source"}),
		findings:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "idgraph_findings", Help: "Open findings of the latest snapshot by kind and severity."}, []string{"kind", "severity"}),
		lastOK:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "idgraph_last_success_timestamp_seconds", Help: "Unix time at which the latest snapshot with every source complete finished."}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idgraph_alert_deliveries_total", Help: "Alert deliveries by result."}, []string{"result"}),
	}
	m.reg.MustRegister(m.runs, m.duration, m.records, m.complete, m.findings, m.lastOK, m.deliveries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// restore sets the gauges from the store, as the runs that wrote it left
// them: without it every restart reads as "never succeeded" and staleness
// alerts fire after each deploy.
func (m *metrics) restore(ctx context.Context, st *store.Store) error {
	list, err := st.List(ctx)
	if err != nil {
		return fmt.Errorf("serve: loading the metrics of the latest snapshot: %w", err)
	}
	if len(list) == 0 {
		return nil
	}
	latest := list[0]
	fs, err := st.Findings(ctx, latest.ID)
	if err != nil {
		return fmt.Errorf("serve: loading the findings of snapshot %d for the metrics: %w", latest.ID, err)
	}
	m.setSnapshot(latest.Sources, fs)
	for _, sum := range list { // newest first
		if sum.Complete {
			m.setLastOK(sum.FinishedAt)
			break
		}
	}
	return nil
}

func (m *metrics) setLastOK(t time.Time) { m.lastOK.Set(float64(t.UnixNano()) / 1e9) }

// setSnapshot sets the source and findings gauges to one snapshot's.
func (m *metrics) setSnapshot(sources []store.Source, fs []diff.Finding) {
	m.records.Reset()
	m.complete.Reset()
	for _, src := range sources {
		m.records.WithLabelValues(src.Info.Name).Set(float64(src.Completeness.Records))
		c := 0.0
		if src.Completeness.Complete {
			c = 1
		}
		m.complete.WithLabelValues(src.Info.Name).Set(c)
	}
	m.findings.Reset()
	for _, f := range fs {
		if f.State == diff.StateOpen {
			m.findings.WithLabelValues(f.Kind, f.Severity).Inc()
		}
	}
}

func (m *metrics) observe(res *RunResult, err error, d time.Duration) {
	m.duration.Observe(d.Seconds())
	switch {
	case err != nil || res == nil || res.Snapshot == nil:
		m.runs.WithLabelValues("failed").Inc()
		return
	case len(res.Incomplete) > 0:
		m.runs.WithLabelValues("incomplete").Inc()
	default:
		m.runs.WithLabelValues("ok").Inc()
		m.setLastOK(res.Snapshot.FinishedAt)
	}
	m.setSnapshot(res.Snapshot.Sources, res.Snapshot.Findings)
	m.deliveries.WithLabelValues("delivered").Add(float64(res.Alerts.Delivered))
	m.deliveries.WithLabelValues("pending").Add(float64(res.Alerts.Pending))
}
