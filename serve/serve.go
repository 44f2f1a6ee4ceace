// Package serve is `idgraph serve`: scheduled runs (never two at once), a
// review web UI, a JSON API under /api/v1/ and Prometheus metrics, all
// behind authentication except /healthz and /readyz.
//
// The files follow its seams: serve.go (options, server, lifecycle,
// routes), auth.go (sign-in, sessions, bearer tokens), schedule.go (the
// cron schedule), run.go (starting a run, never two at once), metrics.go
// (Prometheus), api.go (the JSON API), pages.go and people.go (the UI),
// decide.go (decisions from the UI), throttle.go (sign-in throttling).
package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/robfig/cron/v3"

	"github.com/idgraph/idgraph/graph"
	"github.com/idgraph/idgraph/store"
)

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
