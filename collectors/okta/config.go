// config.go holds the okta section of the configuration and its
// validation (NewCollector).

package okta

import (
	"net/url"
	"strings"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
)

// DefaultScopes are the read-only scopes the OAuth service app needs:
// okta.roles.read lets idgraph check that the app's admin role sees every
// user.
var DefaultScopes = []string{"okta.users.read", "okta.groups.read", "okta.apps.read", "okta.roles.read"}

// Concurrency: Okta limits the requests an org has unfinished at once (75
// for Workforce orgs, 35 for paid developer orgs, 15 for free ones, shared
// by every integration: "Concurrency limits", developer.okta.com/docs/
// reference/rl2-concurrency), and notes that "even large bulk loads
// rarely require more than 10 simultaneous transactions".
const (
	defaultConcurrency = 8
	maxConcurrency     = 75
)

// Config is the okta section of the configuration file.
type Config struct {
	OrgURL         string        `yaml:"org_url"`
	TokenEnv       string        `yaml:"token_env"`
	ClientID       string        `yaml:"client_id"`
	PrivateKeyEnv  string        `yaml:"private_key_env"`
	PrivateKeyID   string        `yaml:"private_key_id"`
	Scopes         []string      `yaml:"scopes"`
	AppID          string        `yaml:"app_id"`
	RoleAttribute  string        `yaml:"role_attribute"`
	RequestTimeout time.Duration `yaml:"request_timeout"`
	MaxRetries     *int          `yaml:"max_retries"`
	// MaxConcurrency bounds the requests in flight (default 8, at most
	// 75): Okta answers 429 to requests beyond its per-org concurrency
	// limit, which every integration of the org shares.
	MaxConcurrency int `yaml:"max_concurrency"`
	// Incremental reads only the users changed since the last complete
	// run (lastUpdated filter) and the members of groups whose membership
	// changed; assignments are always re-read in full. Default true.
	Incremental *bool `yaml:"incremental"`
	// FullEvery forces a full read after this many incremental ones
	// (default 7): a user deleted outright (not deprovisioned) leaves no
	// trace in a lastUpdated filter. 0 keeps the default; -1 never.
	FullEvery int `yaml:"full_every"`
}

// NewCollector validates cfg and reads its secrets.
func NewCollector(cfg Config, env collectors.Env) (*Collector, error) {
	bad := config.Section(env.File, "okta")
	u, err := url.Parse(cfg.OrgURL)
	switch {
	case cfg.OrgURL == "":
		return nil, bad("org_url is required (e.g. https://acme.okta.com)")
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return nil, bad("org_url %q is not an absolute URL", cfg.OrgURL)
	case u.Scheme == "http" && !Loopback(u.Hostname()):
		return nil, bad("org_url %q must use https (plain http is allowed for a local simulator only)", cfg.OrgURL)
	case cfg.AppID == "":
		return nil, bad("app_id is required (the Stonly application's id in Okta, 0oa...)")
	case cfg.TokenEnv != "" && cfg.ClientID != "":
		return nil, bad("token_env and client_id exclude each other: use an API token or an OAuth service app")
	case cfg.TokenEnv == "" && cfg.ClientID == "":
		return nil, bad("token_env (an SSWS API token) or client_id with private_key_env (an OAuth service app) is required")
	case cfg.ClientID != "" && cfg.PrivateKeyEnv == "":
		return nil, bad("private_key_env is required with client_id")
	case cfg.MaxConcurrency < 0 || cfg.MaxConcurrency > maxConcurrency:
		return nil, bad("max_concurrency %d is out of range: 1 to %d (Okta's limit of concurrent requests per org, shared by every integration; default %d)",
			cfg.MaxConcurrency, maxConcurrency, defaultConcurrency)
	case cfg.MaxRetries != nil && *cfg.MaxRetries < 0:
		return nil, bad("max_retries must not be negative")
	}
	if cfg.MaxConcurrency == 0 {
		cfg.MaxConcurrency = defaultConcurrency
	}
	cfg.OrgURL = strings.TrimRight(cfg.OrgURL, "/")
	if cfg.RoleAttribute == "" {
		cfg.RoleAttribute = "role"
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 2 * time.Minute
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = DefaultScopes
	}
	c := &Collector{cfg: cfg}
	if cfg.TokenEnv != "" {
		if c.token, err = env.Secret("okta.token_env", cfg.TokenEnv); err != nil {
			return nil, &config.Error{Err: err}
		}
		c.secret = append(c.secret, c.token)
	} else {
		if c.key, err = env.Secret("okta.private_key_env", cfg.PrivateKeyEnv); err != nil {
			return nil, &config.Error{Err: err}
		}
		c.secret = append(c.secret, c.key)
	}
	return c, nil
}
