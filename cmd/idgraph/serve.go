package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/config"
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

func (a *app) serveCmd() *cobra.Command {
	var noSchedule bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run on a schedule and serve the review UI, the JSON API and metrics",
		Long: `serve runs idgraph on serve.schedule (a cron expression; default nightly at 02:00), never
two runs at once, and serves on serve.listen (default 127.0.0.1:8080):

  /                     snapshots, "Run now", downloads of the report and the CSV evidence
  /findings             findings with filters (kind, severity, team, decision) and review decisions
  /people/{id}          a person's graph: accounts, groups, assignments, why each link holds
  /drift                what changed between two snapshots
  /api/v1/...           snapshots, findings, people, decisions, runs (JSON)
  /metrics              Prometheus metrics
  /healthz, /readyz     health, without authentication

Everything else requires the bearer token in serve.token_env or the credentials of a
reviewer in serve.users_env (sign-in form for the UI, basic auth for scripts). SIGTERM stops
accepting work and waits for a run under way, so the store stays consistent.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			o := serve.Options{Logger: a.log, Version: version()}
			if cfg.Serve.TokenEnv != "" {
				if o.Token = a.getenv(cfg.Serve.TokenEnv); len(o.Token) < 16 {
					return &config.Error{Err: fmt.Errorf("%s: serve.token_env names %s, which must hold a token of at least 16 characters", cfg.File, cfg.Serve.TokenEnv)}
				}
			}
			if cfg.Serve.UsersEnv != "" {
				if o.Users, err = parseUsers(a.getenv(cfg.Serve.UsersEnv)); err != nil {
					return &config.Error{Err: fmt.Errorf("%s: serve.users_env (%s): %w", cfg.File, cfg.Serve.UsersEnv, err)}
				}
			}
			st, err := a.openStore(ctx, cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			o.Store = st
			o.Run = func(ctx context.Context) (*serve.RunResult, error) {
				out, res, err := a.execute(ctx, cfg, a.getenv, pipeline.Options{}, true)
				if err != nil {
					return nil, err
				}
				return &serve.RunResult{Outcome: out, Alerts: res}, nil
			}
			srv, err := serve.New(o)
			if err != nil {
				return &config.Error{Err: fmt.Errorf("%s: %w", cfg.File, err)}
			}
			schedule := cfg.Serve.Schedule
			if schedule == "" {
				schedule = "0 2 * * *"
			}
			if !noSchedule {
				if err := srv.Schedule(schedule); err != nil {
					return &config.Error{Err: err}
				}
			}
			listen := cfg.Serve.Listen
			if listen == "" {
				listen = "127.0.0.1:8080"
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("serve.listen %s: %w", listen, err)
			}
			hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
			a.log.Warn("serving", "address", "http://"+ln.Addr().String(), "schedule", schedule)
			errc := make(chan error, 1)
			go func() { errc <- hs.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			a.log.Warn("stopping: no new work; waiting for a run under way")
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			hs.Shutdown(sctx)
			srv.Stop()
			return nil
		},
	}
	cmd.Flags().BoolVar(&noSchedule, "no-schedule", false, "serve only; run on demand")
	return cmd
}
