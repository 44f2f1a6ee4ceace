// This file holds the configuration: the scim section of the
// configuration file (one mapping, or a list of mappings with name), its
// defaults and checks, and the registration of the source.

package scim

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
)

func init() {
	collectors.Register("scim", collectors.OneOrMany("scim", func(name string, c Config, env collectors.Env) (collectors.Collector, error) {
		return NewCollector(name, c, env)
	}))
}

// Config is one SCIM application in the configuration file.
type Config struct {
	// App is the application's short name (notion); Title how people
	// write it (Notion; default: App capitalised).
	App   string `yaml:"app"`
	Title string `yaml:"title"`
	// URL is the SCIM base URL, e.g. https://api.notion.com/scim/v2.
	URL string `yaml:"url"`
	// TokenEnv names the environment variable holding the bearer token.
	TokenEnv string `yaml:"token_env"`
	// Roles is the application's role ladder, lowest to highest.
	Roles []string `yaml:"roles"`
	// RoleAttribute says which attribute carries the role: roles (the
	// default), entitlements, groups, a core attribute (title, userType)
	// or an extension attribute (urn:…:User:department).
	RoleAttribute string `yaml:"role_attribute"`
	// PageSize is the count asked per page of /Users (default 100; the
	// server's filter.maxResults caps it).
	PageSize int `yaml:"page_size"`
	// DeleteOnRemove makes a removal DELETE the user instead of
	// deactivating it (PATCH active=false).
	DeleteOnRemove bool `yaml:"delete_on_remove"`
	// Timeout bounds each request (default 1m).
	Timeout time.Duration `yaml:"timeout"`
}

const (
	defaultPageSize = 100
	maxPageSize     = 1000
	defaultTimeout  = time.Minute
	// maxRetries bounds the retries of one request answered 429 or 503;
	// maxWait bounds one wait a Retry-After asks for: a server that wants
	// an hour makes the read incomplete rather than hold the run.
	maxRetries = 4
	maxWait    = 2 * time.Minute
)

// roleAttr is a parsed role_attribute.
type roleAttr struct {
	kind string // "roles", "entitlements", "groups" or "attr"
	ext  string // the extension's schema URN; "" for the core schema
	attr string // kind attr: the attribute
	sub  string // and its sub-attribute, e.g. manager.displayName
}

func (r roleAttr) String() string {
	if r.kind != "attr" {
		return r.kind
	}
	p := r.attr
	if r.sub != "" {
		p += "." + r.sub
	}
	if r.ext != "" {
		return r.ext + ":" + p
	}
	return p
}

// path is the attribute path a PATCH names (RFC 7644 §3.10).
func (r roleAttr) path() string { return r.String() }

var attrName = regexp.MustCompile(`^[A-Za-z][\w$-]*(\.[A-Za-z][\w$-]*)?$`)

// parseRoleAttr reads role_attribute. Attribute notation is RFC 7644
// §3.10: an attribute of the core User schema by name, one of an
// extension by the schema URN, a colon and the name.
func parseRoleAttr(v string) (roleAttr, error) {
	switch v {
	case "", "roles":
		return roleAttr{kind: "roles"}, nil
	case "entitlements", "groups":
		return roleAttr{kind: v}, nil
	}
	r := roleAttr{kind: "attr"}
	p := v
	if strings.HasPrefix(strings.ToLower(v), "urn:") {
		i := strings.LastIndex(v, ":")
		r.ext, p = v[:i], v[i+1:]
		if strings.EqualFold(r.ext, userSchema) {
			r.ext = ""
		}
	}
	if !attrName.MatchString(p) {
		return r, fmt.Errorf("%q is not an attribute path (roles, entitlements, groups, a User attribute such as title, or urn:…:User:attribute)", v)
	}
	r.attr, r.sub, _ = strings.Cut(p, ".")
	if r.ext == "" {
		switch r.attr {
		case "id", "meta", "schemas", "active", "userName", "emails", "password", "name", "externalId":
			return r, fmt.Errorf("%q carries no role (use roles, entitlements, groups, a User attribute such as title, or urn:…:User:attribute)", v)
		case "phoneNumbers", "ims", "photos", "addresses", "x509Certificates":
			return r, fmt.Errorf("%q is a multi-valued attribute that carries no role (use roles or entitlements)", v)
		}
	}
	return r, nil
}

// NewCollector validates cfg and reads its secret. name is the source's
// name: "scim" for a single mapping, the entry's name in a list.
func NewCollector(name string, cfg Config, env collectors.Env) (*Collector, error) {
	at := "scim"
	if name != "scim" {
		at = fmt.Sprintf("scim[name=%s]", name)
	}
	bad := config.Section(env.File, at)
	u, err := url.Parse(cfg.URL)
	switch {
	case strings.TrimSpace(cfg.App) == "":
		return nil, bad("app is required (the application's short name, e.g. app: notion)")
	case cfg.URL == "":
		return nil, bad("url is required (the SCIM base URL, e.g. https://api.notion.com/scim/v2)")
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return nil, bad("url %q is not an absolute http(s) URL", cfg.URL)
	case u.Scheme == "http" && !loopback(u.Hostname()):
		return nil, bad("url %q must use https (plain http is allowed for a local simulator only)", cfg.URL)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, bad("url %q must not carry a query or fragment", cfg.URL)
	case cfg.TokenEnv == "":
		return nil, bad("token_env is required (the name of an environment variable holding the SCIM bearer token)")
	case len(cfg.Roles) == 0:
		return nil, bad("roles is required: the application's role ladder, lowest to highest, e.g. [Member, Admin, Owner]")
	case cfg.PageSize < 0 || cfg.PageSize > maxPageSize:
		return nil, bad("page_size is %d; give 1 to %d (default %d)", cfg.PageSize, maxPageSize, defaultPageSize)
	case cfg.Timeout < 0 || (cfg.Timeout > 0 && cfg.Timeout < 100*time.Millisecond):
		return nil, bad("timeout is %s; give at least 100ms, e.g. 30s (default %s)", cfg.Timeout, defaultTimeout)
	}
	seen := map[string]bool{}
	for i, r := range cfg.Roles {
		r = strings.TrimSpace(r)
		if r == "" {
			return nil, bad("roles[%d] is empty", i)
		}
		if seen[strings.ToLower(r)] {
			return nil, bad("roles names %q twice", r)
		}
		seen[strings.ToLower(r)] = true
		cfg.Roles[i] = r
	}
	ra, err := parseRoleAttr(cfg.RoleAttribute)
	if err != nil {
		return nil, bad("role_attribute: %v", err)
	}
	cfg.App = strings.TrimSpace(cfg.App)
	if cfg.Title == "" {
		r, n := utf8.DecodeRuneInString(cfg.App)
		cfg.Title = string(unicode.ToUpper(r)) + cfg.App[n:]
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = defaultPageSize
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	token, err := env.Secret(at+".token_env", cfg.TokenEnv)
	if err != nil {
		return nil, &config.Error{Err: err}
	}
	return &Collector{name: name, cfg: cfg, token: token, role: ra,
		hc: &http.Client{}, sleep: sleep}, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
