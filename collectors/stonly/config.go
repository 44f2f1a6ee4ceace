// This file holds the configuration: the stonly section of the
// configuration file, its defaults and checks, and the registration of
// the collector.

package stonly

import (
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
)

func init() {
	collectors.Register("stonly", collectors.One("stonly", func(c Config, env collectors.Env) (collectors.Collector, error) { return NewCollector(c, env) }))
}

// Config is the stonly section of the configuration file.
type Config struct {
	URL               string        `yaml:"url"`
	Email             string        `yaml:"email"`
	PasswordEnv       string        `yaml:"password_env"`
	SessionCookieEnv  string        `yaml:"session_cookie_env"`
	SessionCookieName string        `yaml:"session_cookie_name"`
	Teams             []string      `yaml:"teams"`
	BrowserURL        string        `yaml:"browser_url"`
	Chromium          string        `yaml:"chromium"`
	DebugDir          string        `yaml:"debug_dir"`
	Timeout           time.Duration `yaml:"timeout"`
	StepTimeout       time.Duration `yaml:"step_timeout"`
	LoginPath         string        `yaml:"login_path"`
	AppPath           string        `yaml:"app_path"`
	TeamPath          string        `yaml:"team_path"` // {team} is replaced by the team id
	LogoutPath        string        `yaml:"logout_path"`
	Tabs              int           `yaml:"tabs"`
}

// NewCollector validates cfg and reads its secret.
func NewCollector(cfg Config, env collectors.Env) (*Collector, error) {
	bad := config.Section(env.File, "stonly")
	if cfg.DebugDir != "" && !filepath.IsAbs(cfg.DebugDir) && env.Dir != "" {
		cfg.DebugDir = filepath.Join(env.Dir, cfg.DebugDir)
	}
	u, err := url.Parse(cfg.URL)
	switch {
	case cfg.URL == "":
		return nil, bad("url is required (e.g. https://app.stonly.com)")
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return nil, bad("url %q is not an absolute http(s) URL", cfg.URL)
	case cfg.PasswordEnv != "" && cfg.SessionCookieEnv != "":
		return nil, bad("password_env and session_cookie_env exclude each other")
	case cfg.PasswordEnv == "" && cfg.SessionCookieEnv == "":
		return nil, bad("password_env (with email) or session_cookie_env is required")
	case cfg.PasswordEnv != "" && cfg.Email == "":
		return nil, bad("email is required with password_env")
	case cfg.Tabs < 0 || cfg.Tabs > 16:
		return nil, bad("tabs is %d; give 1 to 16 (teams read at once)", cfg.Tabs)
	}
	if cfg.Tabs == 0 {
		// Teams are independent pages: reading a few at once hides the
		// app's per-load latency, and four tabs stay gentle on the app
		// and on a small machine.
		cfg.Tabs = 4
	}
	if cfg.SessionCookieName == "" {
		cfg.SessionCookieName = "stonly_session"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Minute
	}
	if cfg.StepTimeout == 0 {
		cfg.StepTimeout = 30 * time.Second
	}
	if cfg.LoginPath == "" {
		cfg.LoginPath = "/login"
	}
	if cfg.AppPath == "" {
		cfg.AppPath = "/app"
	}
	if cfg.LogoutPath == "" {
		cfg.LogoutPath = "/logout"
	}
	if cfg.TeamPath == "" {
		cfg.TeamPath = "/app/general/{team}/settings/team"
	}
	if cfg.DebugDir == "" {
		cfg.DebugDir = filepath.Join(os.TempDir(), "idgraph-stonly-debug")
	}
	c := &Collector{cfg: cfg, base: u}
	if cfg.PasswordEnv != "" {
		if c.password, err = env.Secret("stonly.password_env", cfg.PasswordEnv); err != nil {
			return nil, &config.Error{Err: err}
		}
	} else if c.cookie, err = env.Secret("stonly.session_cookie_env", cfg.SessionCookieEnv); err != nil {
		return nil, &config.Error{Err: err}
	}
	return c, nil
}
