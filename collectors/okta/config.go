// config.go holds the okta section of the configuration and its
// validation (NewCollector).

package okta

import (
	"maps"
	"net/url"
	"slices"
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
	OrgURL        string   `yaml:"org_url"`
	TokenEnv      string   `yaml:"token_env"`
	ClientID      string   `yaml:"client_id"`
	PrivateKeyEnv string   `yaml:"private_key_env"`
	PrivateKeyID  string   `yaml:"private_key_id"`
	Scopes        []string `yaml:"scopes"`
	// AppID is the one application of a single-app configuration; its
	// assignments are recorded for app "" (the run names it). Apps
	// configures several instead: application name -> Okta app id. One of
	// the two is required; they exclude each other.
	AppID          string            `yaml:"app_id"`
	Apps           map[string]string `yaml:"apps"`
	RoleAttribute  string            `yaml:"role_attribute"`
	RequestTimeout time.Duration     `yaml:"request_timeout"`
	MaxRetries     *int              `yaml:"max_retries"`
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

// appRef is one application the collector reads: its configured name ("" for
// okta.app_id) and its Okta app id.
type appRef struct {
	name, id string
	conf     string // the configuration key that names it: okta.app_id, okta.apps.notion
}

// key is the configuration key that names the app, for messages.
func (a appRef) key() string { return a.conf }

// label is how messages name the app: "the app's", or "app notion's".
func (a appRef) label() string {
	if a.name == "" {
		return "the app"
	}
	return "app " + a.name
}

// NewCollector validates cfg and reads its secrets, for a source named
// "okta" (the okta key configured as one mapping).
func NewCollector(cfg Config, env collectors.Env) (*Collector, error) {
	return New("okta", cfg, env)
}

// New validates cfg and reads its secrets, for the source named name
// (an entry of the okta list, or "okta").
func New(name string, cfg Config, env collectors.Env) (*Collector, error) {
	section := "okta"
	if name != "okta" {
		section = "okta[" + name + "]"
	}
	bad := config.Section(env.File, section)
	apps, err := appsOf(cfg, section, bad)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(cfg.OrgURL)
	switch {
	case cfg.OrgURL == "":
		return nil, bad("org_url is required (e.g. https://acme.okta.com)")
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return nil, bad("org_url %q is not an absolute URL", cfg.OrgURL)
	case u.Scheme == "http" && !Loopback(u.Hostname()):
		return nil, bad("org_url %q must use https (plain http is allowed for a local simulator only)", cfg.OrgURL)
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
	c := &Collector{name: name, cfg: cfg, apps: apps}
	if cfg.TokenEnv != "" {
		if c.token, err = env.Secret(section+".token_env", cfg.TokenEnv); err != nil {
			return nil, &config.Error{Err: err}
		}
		c.secret = append(c.secret, c.token)
	} else {
		if c.key, err = env.Secret(section+".private_key_env", cfg.PrivateKeyEnv); err != nil {
			return nil, &config.Error{Err: err}
		}
		c.secret = append(c.secret, c.key)
	}
	return c, nil
}

// appsOf reads the applications of cfg: okta.app_id (one, named "") or
// okta.apps (several, by name).
func appsOf(cfg Config, section string, bad func(string, ...any) error) ([]appRef, error) {
	switch {
	case cfg.AppID != "" && len(cfg.Apps) > 0:
		return nil, bad("app_id and %s.apps exclude each other: keep app_id for one application, or move it into apps (apps: {stonly: %s, notion: 0oa...})", section, cfg.AppID)
	case cfg.AppID != "":
		return []appRef{{id: strings.TrimSpace(cfg.AppID), conf: section + ".app_id"}}, nil
	case len(cfg.Apps) == 0:
		return nil, bad("app_id is required (the application's id in Okta, 0oa...), or apps for several (apps: {stonly: 0oa..., notion: 0oa...})")
	}
	var out []appRef
	owner := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(cfg.Apps)) {
		id := strings.TrimSpace(cfg.Apps[name])
		switch {
		case strings.TrimSpace(name) == "":
			return nil, bad("apps: an application name is empty")
		case id == "":
			return nil, bad("apps.%s: the Okta app id is empty (the id in the app's admin URL, 0oa...)", name)
		case owner[id] != "":
			return nil, bad("apps.%s and apps.%s name the same Okta app %s", owner[id], name, id)
		}
		owner[id] = name
		out = append(out, appRef{name: name, id: id, conf: section + ".apps." + name})
	}
	return out, nil
}
