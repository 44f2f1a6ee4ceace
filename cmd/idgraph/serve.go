package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
	_ "time/tzdata" // serve.timezone also works where the machine has no /usr/share/zoneinfo (minimal images)

	"github.com/robfig/cron/v3"
	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/graph"
	"github.com/idgraph/idgraph/pipeline"
	"github.com/idgraph/idgraph/serve"
)

// parseUsers reads "alice@acme.com:password,bob@acme.com:password".
func parseUsers(v string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' }) {
		u, p, ok := strings.Cut(strings.TrimSpace(pair), ":")
		if !ok || u == "" || len(p) < 8 {
			return nil, errors.New("users must be user:password pairs separated by commas, passwords of at least 8 characters")
		}
		out[u] = p
	}
	return out, nil
}

// Shortest secrets serve accepts.
const (
	minToken         = 16
	minSessionSecret = 32
)

// serveSecrets are what serve reads from the environment at start.
type serveSecrets struct {
	token   string
	users   map[string]string
	session []byte
}

// serveCheck is one check of the serve section: serve stops at the first
// that fails, doctor prints them all. Details never show a secret.
type serveCheck struct {
	name, detail string
	err          error
	fix          string
}

// serveConfigured reports whether the file has a serve section worth
// checking.
func serveConfigured(s config.Serve) bool { return s != config.Serve{} }

// checkServe reads and checks the serve section's variables and files.
func checkServe(cfg *config.Config, getenv func(string) string) (serveSecrets, []serveCheck) {
	var sec serveSecrets
	var out []serveCheck
	add := func(name, detail string, err error, fix string) {
		out = append(out, serveCheck{name, detail, err, fix})
	}
	s := cfg.Serve
	if s.TokenEnv == "" && s.UsersEnv == "" {
		add("serve: authentication", "", errors.New("serve needs serve.token_env or serve.users_env: every page but /healthz requires authentication"),
			"set serve.token_env (a bearer token for scripts) and/or serve.users_env (reviewers who sign in)")
	}
	if s.TokenEnv != "" {
		if sec.token = getenv(s.TokenEnv); len(sec.token) < minToken {
			add("serve: token_env", "", fmt.Errorf("serve.token_env names %s, which must hold a token of at least %d characters", s.TokenEnv, minToken),
				"export "+s.TokenEnv+"=$(openssl rand -hex 32)")
		} else {
			add("serve: token_env", s.TokenEnv+" is set", nil, "")
		}
	}
	if s.UsersEnv != "" {
		users, err := parseUsers(getenv(s.UsersEnv))
		switch {
		case err != nil:
			add("serve: users_env", "", fmt.Errorf("serve.users_env (%s): %w", s.UsersEnv, err), "set "+s.UsersEnv+" to alice@acme.com:password,bob@acme.com:password")
		case len(users) == 0:
			add("serve: users_env", "", fmt.Errorf("serve.users_env names %s, which is not set or holds no reviewer", s.UsersEnv), "set "+s.UsersEnv+" to alice@acme.com:password,bob@acme.com:password")
		default:
			sec.users = users
			add("serve: users_env", fmt.Sprintf("%s holds %d reviewer(s)", s.UsersEnv, len(users)), nil, "")
		}
	}
	switch v := getenv(s.SessionSecretEnv); {
	case s.UsersEnv != "" && s.SessionSecretEnv == "":
		add("serve: session_secret_env", "", errors.New("serve.users_env is set, so sign-in sessions need serve.session_secret_env: the variable holding their key"),
			"add session_secret_env: IDGRAPH_SESSION_SECRET to serve and export IDGRAPH_SESSION_SECRET=$(openssl rand -base64 48)")
	case s.SessionSecretEnv != "" && len(v) < minSessionSecret:
		add("serve: session_secret_env", "", fmt.Errorf("serve.session_secret_env names %s, which must hold at least %d characters", s.SessionSecretEnv, minSessionSecret),
			"export "+s.SessionSecretEnv+"=$(openssl rand -base64 48)")
	case s.SessionSecretEnv != "":
		sec.session = []byte(v)
		add("serve: session_secret_env", s.SessionSecretEnv+" is set", nil, "")
	}
	if spec, loc, err := serveSchedule(s); err != nil {
		add(scheduleCheck, "", err, `a cron expression of five fields (minute hour day-of-month month day-of-week), e.g. schedule: "0 2 * * *"`)
	} else {
		sched, _ := cron.ParseStandard(spec) // parsed by serveSchedule
		add(scheduleCheck, fmt.Sprintf("%q; next run %s (%s)", spec, sched.Next(time.Now().In(loc)).Format("2006-01-02 15:04 MST"), serve.ZoneName(loc)), nil, "")
	}
	if s.TLSCertFile != "" {
		cert, key := cfg.Path(s.TLSCertFile), cfg.Path(s.TLSKeyFile)
		if _, err := tls.LoadX509KeyPair(cert, key); err != nil {
			add("serve: TLS certificate", "", fmt.Errorf("serve.tls_cert_file %s and serve.tls_key_file %s: %w", cert, key, err),
				"point tls_cert_file at the PEM certificate chain and tls_key_file at its private key, both readable by idgraph")
		} else {
			add("serve: TLS certificate", cert+" and its key load", nil, "")
		}
	}
	return sec, out
}

// scheduleCheck names the check of serve.schedule, which serve skips
// with --no-schedule.
const scheduleCheck = "serve: schedule"

// defaultSchedule is serve's schedule when the file names none: nightly
// at 02:00.
const defaultSchedule = "0 2 * * *"

// serveSchedule returns the cron expression serve runs on and the zone
// whose clocks it follows (serve.timezone; the machine's local zone).
func serveSchedule(s config.Serve) (string, *time.Location, error) {
	spec := s.Schedule
	if spec == "" {
		spec = defaultSchedule
	}
	loc := time.Local
	if s.Timezone != "" { // checked when the file was loaded
		var err error
		if loc, err = time.LoadLocation(s.Timezone); err != nil {
			return "", nil, fmt.Errorf("serve.timezone: %w", err)
		}
	}
	if _, err := cron.ParseStandard(spec); err != nil {
		return "", nil, fmt.Errorf("serve.schedule %q is not a cron expression: %w", spec, err)
	}
	return spec, loc, nil
}

func (a *app) serveCmd() *cobra.Command {
	var noSchedule bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run on a schedule and serve the review UI, the JSON API and metrics",
		Long: `serve runs idgraph on serve.schedule (a cron expression; default nightly at 02:00), never
two runs at once, and serves on serve.listen (default 127.0.0.1:8080), over HTTPS when
serve.tls_cert_file and serve.tls_key_file are set. The schedule follows the clocks of
serve.timezone (an IANA name such as Europe/Paris; default the machine's local zone); the
start's log line says when the next run is due and in which zone.

  /                     snapshots, "Run now", downloads of the report and the CSV evidence
  /findings             findings with filters (kind, severity, team, decision) and review decisions
  /people?email=…       people found by any address their accounts carry
  /people/{id}          a person's graph: accounts, groups, assignments, why each link holds
  /drift                what changed between two snapshots, each line naming the person
  /api/v1/...           snapshots, findings, people, decisions, runs, lockouts (JSON)
  /metrics              Prometheus metrics
  /healthz, /readyz     health, without authentication

Everything else requires the bearer token in serve.token_env or the credentials of a
reviewer in serve.users_env (sign-in form for the UI, basic auth for scripts; sessions are
kept in the store under the key in serve.session_secret_env). Failed sign-ins are logged
and throttled per account and address; the token lifts a lockout with
DELETE /api/v1/lockouts?account=EMAIL (or ?address=IP).

serve refuses to start when a variable it or a configured source needs is missing.
SIGTERM makes /readyz answer 503, stops the schedule and waits for a run under way, so
the store stays consistent, then closes the listener.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			sec, checks := checkServe(cfg, a.getenv)
			for _, c := range checks {
				if c.err != nil && !(noSchedule && c.name == scheduleCheck) {
					return &config.Error{Err: fmt.Errorf("%s: %w", cfg.File, c.err)}
				}
			}
			// The sources and sinks are built again by every run; built
			// now, a missing secret stops the start instead of the first
			// run at 02:00.
			if _, err := a.job(cfg, a.getenv, pipeline.Options{}); err != nil {
				return fmt.Errorf("serve would fail at its first run: %w", err)
			}
			st, err := a.openStore(ctx, cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			norm, err := graph.NewNormalizer(cfg.Domains.Aliases, cfg.Domains.StripPlus)
			if err != nil {
				return &config.Error{Err: fmt.Errorf("%s: domains: %w", cfg.File, err)}
			}
			o := serve.Options{Store: st, Normalizer: norm, Review: reviewingOf(cfg), Token: sec.token, Users: sec.users, SessionSecret: sec.session, TrustProxy: cfg.Serve.TrustProxy,
				Logger: a.log, Version: version()}
			if cfg.Serve.TLSCertFile != "" {
				o.TLSCertFile, o.TLSKeyFile = cfg.Path(cfg.Serve.TLSCertFile), cfg.Path(cfg.Serve.TLSKeyFile)
			}
			if o.Remediation, err = a.remediationOptions(cfg, st); err != nil {
				return err
			}
			o.Run = func(ctx context.Context) (*serve.RunResult, error) {
				// A scheduled run presents itself in the log: no progress
				// bars, no summary on standard output.
				job, err := a.job(cfg, a.getenv, pipeline.Options{})
				if err != nil {
					return nil, err
				}
				res, err := pipeline.Execute(ctx, job)
				if err != nil {
					return nil, err
				}
				if res.ReportsErr != nil {
					// The snapshot is stored: the run counts as done (a retry
					// would store a second one); the reports' failure is logged.
					a.log.Error("snapshot stored; reports failed", "snapshot", res.Snapshot.ID, "dir", job.ReportDir, "error", res.ReportsErr)
				}
				a.log.Info("run finished", "snapshot", res.Snapshot.ID, "findings", len(res.Snapshot.Findings),
					"incomplete", len(res.Incomplete), "alerts_delivered", res.Alerts.Delivered, "alerts_pending", res.Alerts.Pending)
				return &serve.RunResult{Snapshot: res.Snapshot, Incomplete: res.Incomplete, Alerts: res.Alerts}, nil
			}
			srv, err := serve.New(ctx, o)
			if err != nil {
				return &config.Error{Err: fmt.Errorf("%s: %w", cfg.File, err)}
			}
			var schedule, next string
			if !noSchedule {
				spec, loc, err := serveSchedule(cfg.Serve)
				if err != nil {
					return &config.Error{Err: fmt.Errorf("%s: %w", cfg.File, err)}
				}
				schedule = spec
				at, err := srv.Schedule(spec, loc)
				if err != nil {
					return &config.Error{Err: fmt.Errorf("%s: %w", cfg.File, err)}
				}
				next = at.Format("2006-01-02 15:04 MST") + " (" + serve.ZoneName(loc) + ")"
			}
			listen := cfg.Serve.Listen
			if listen == "" {
				listen = "127.0.0.1:8080"
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("serve.listen %s: %w", listen, err)
			}
			scheme := "http://"
			if o.TLSCertFile != "" {
				scheme = "https://"
			}
			if noSchedule {
				a.log.Warn("serving", "address", scheme+ln.Addr().String(), "schedule", "none (--no-schedule)")
			} else {
				a.log.Warn("serving", "address", scheme+ln.Addr().String(), "schedule", schedule, "next_run", next)
			}
			return srv.Serve(ctx, ln)
		},
	}
	cmd.Flags().BoolVar(&noSchedule, "no-schedule", false, "serve only; run on demand")
	return cmd
}
