// config.go holds the entra section of the configuration, its validation
// and the source's registration.

package entra

import (
	"crypto/x509"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
)

func init() {
	// entra: is one tenant (source "entra"), or a list of tenants, each
	// with a name that becomes its source's name (two tenants after an
	// acquisition).
	collectors.Register("entra", collectors.OneOrMany("entra", func(name string, c Config, env collectors.Env) (collectors.Collector, error) {
		return NewNamed(name, c, env)
	}))
}

// Config is the entra section of the configuration file.
type Config struct {
	TenantID           string `yaml:"tenant_id"`
	ClientID           string `yaml:"client_id"`
	ClientSecretEnv    string `yaml:"client_secret_env"`
	ServicePrincipalID string `yaml:"service_principal_id"`
	// Apps names several applications: application name -> the object id
	// of its service principal. Either this or ServicePrincipalID.
	Apps     map[string]string `yaml:"apps"`
	GraphURL string            `yaml:"graph_url"`
	TokenURL string            `yaml:"token_url"`
	CAFile   string            `yaml:"ca_file"`
	Delta    *bool             `yaml:"delta"`
	// Managers reads each user's manager (default true); false saves the
	// smaller pages that $expand=manager brings (managers.go).
	Managers       *bool         `yaml:"managers"`
	MaxRetryWait   time.Duration `yaml:"max_retry_wait"`
	RequestTimeout time.Duration `yaml:"request_timeout"`
}

// Collector reads one tenant.
type Collector struct {
	name      string   // the source's name: "entra", or the name of one of several tenants
	hosts     []string // test hook: replaces AllowedHosts
	cfg       Config
	secret    string
	graphURL  *url.URL
	authority string // https://host/
	roots     *x509.CertPool
	apps      []appRef // in the order of their names; one, named "", for service_principal_id
}

// NewCollector validates cfg and reads its secret, for the source "entra".
func NewCollector(cfg Config, env collectors.Env) (*Collector, error) {
	return NewNamed("entra", cfg, env)
}

// NewNamed is NewCollector for a source named name, one of several
// tenants listed under entra:.
func NewNamed(name string, cfg Config, env collectors.Env) (*Collector, error) {
	c := &Collector{name: name}
	bad := config.Section(env.File, strings.TrimSuffix(c.key(""), "."))
	if cfg.CAFile != "" && !strings.HasPrefix(cfg.CAFile, "/") && env.Dir != "" {
		cfg.CAFile = env.Dir + "/" + cfg.CAFile
	}
	for _, k := range []struct{ key, v string }{{"tenant_id", cfg.TenantID}, {"client_id", cfg.ClientID}} {
		if k.v == "" {
			return nil, bad("%s is required", k.key)
		}
	}
	apps, err := appsOf(cfg, bad)
	if err != nil {
		return nil, err
	}
	if cfg.GraphURL == "" {
		cfg.GraphURL = "https://graph.microsoft.com/v1.0"
	}
	if cfg.TokenURL == "" {
		cfg.TokenURL = "https://login.microsoftonline.com/" + cfg.TenantID + "/oauth2/v2.0/token"
	}
	if cfg.MaxRetryWait == 0 {
		cfg.MaxRetryWait = 2 * time.Minute
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 2 * time.Minute
	}
	g, err := url.Parse(strings.TrimRight(cfg.GraphURL, "/"))
	if err != nil || g.Scheme != "https" || g.Host == "" {
		return nil, bad("graph_url %q must be an absolute https URL", cfg.GraphURL)
	}
	t, err := url.Parse(cfg.TokenURL)
	if err != nil || t.Scheme != "https" || t.Host == "" || !strings.HasSuffix(t.Path, "/oauth2/v2.0/token") {
		return nil, bad("token_url %q must be an https URL ending in /TENANT/oauth2/v2.0/token", cfg.TokenURL)
	}
	if tp := strings.Split(strings.Trim(t.Path, "/"), "/"); tp[0] != cfg.TenantID {
		return nil, bad("token_url names tenant %q but tenant_id is %q", tp[0], cfg.TenantID)
	}
	c.cfg, c.graphURL, c.authority, c.apps = cfg, g, t.Scheme+"://"+t.Host+"/", apps
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, bad("ca_file: %v", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, bad("ca_file %s holds no PEM certificate", cfg.CAFile)
		}
		c.roots = pool
	}
	if c.secret, err = env.Secret(c.key("client_secret_env"), cfg.ClientSecretEnv); err != nil {
		return nil, &config.Error{Err: err}
	}
	return c, nil
}

// appsOf reads the applications to collect: the single-app key
// service_principal_id (one application, named "": the run gives it the
// one configured application's name), or apps, a map of application
// names to service principal object ids. Both at once is an error, since
// which one is meant cannot be guessed.
func appsOf(cfg Config, bad func(string, ...any) error) ([]appRef, error) {
	switch {
	case cfg.ServicePrincipalID != "" && len(cfg.Apps) > 0:
		return nil, bad("service_principal_id and apps are both set: use service_principal_id for one application, or apps (application name: service principal object id) for several, not both")
	case len(cfg.Apps) == 0:
		if cfg.ServicePrincipalID == "" {
			return nil, bad("service_principal_id is required (or apps, application name: service principal object id, for several applications)")
		}
		if !isGUID(cfg.ServicePrincipalID) {
			return nil, bad("service_principal_id %q is not a GUID (the object id of Stonly's enterprise application)", cfg.ServicePrincipalID)
		}
		return []appRef{{spID: cfg.ServicePrincipalID}}, nil
	}
	names := make([]string, 0, len(cfg.Apps))
	for n := range cfg.Apps {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []appRef
	seen := map[string]string{}
	for _, n := range names {
		id := strings.TrimSpace(cfg.Apps[n])
		switch {
		case strings.TrimSpace(n) == "" || strings.ContainsAny(n, " \t:"):
			return nil, bad("apps: %q is not an application name (a short name such as stonly, without spaces or colons)", n)
		case !isGUID(id):
			return nil, bad("apps.%s: %q is not a GUID (the object id of the application's enterprise application, not its app id)", n, id)
		case seen[strings.ToLower(id)] != "":
			return nil, bad("apps.%s and apps.%s name the same service principal %s: each application has its own", seen[strings.ToLower(id)], n, id)
		}
		seen[strings.ToLower(id)] = n
		out = append(out, appRef{name: n, spID: id})
	}
	return out, nil
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if r != '-' {
				return false
			}
		case !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'):
			return false
		}
	}
	return true
}

// Info describes the source.
func (c *Collector) Info() collectors.Info {
	return collectors.Info{Name: c.name, Type: "entra", Kind: collectors.KindIdP, Version: Version}
}

// key names the configuration key k of this tenant: entra.k, or
// entra[NAME].k for one of several tenants.
func (c *Collector) key(k string) string {
	if c.name == "entra" || c.name == "" {
		return "entra." + k
	}
	return "entra[" + c.name + "]." + k
}

// Incremental tells the pipeline to hand over the last snapshot's users
// and delta link.
func (c *Collector) Incremental() bool { return c.cfg.Delta == nil || *c.cfg.Delta }
