// Package config loads and validates idgraph's YAML configuration file.
//
// The core keys (store, roles, domains, ...) are decoded here. Every other
// top-level key must name a registered source; its subtree is handed to that
// source's factory, so that adding a source never touches this package.
package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idgraph/idgraph/internal/yamlx"
	"gopkg.in/yaml.v3"
)

// RoleRule says that an IdP fact implies a role in an application.
// Exactly one of the matchers is set, or Default. Whether Role is one of
// the application's roles is checked when the sources are built, since
// each application source declares its own ladder.
type RoleRule struct {
	OktaGroup    string `yaml:"okta_group"`     // member of this Okta group (direct)
	OktaAppRole  string `yaml:"okta_app_role"`  // the app-user profile role Okta resolved
	EntraAppRole string `yaml:"entra_app_role"` // assigned this app role (value or display name)
	EntraGroup   string `yaml:"entra_group"`    // direct member of this Entra group
	Source       string `yaml:"source"`         // with group/app_role: any source by name (e.g. a csvfile IdP)
	Group        string `yaml:"group"`
	AppRole      string `yaml:"app_role"`
	Default      string `yaml:"default"` // role of an assigned person no other rule matches
	Role         string `yaml:"role"`
}

// Domains configures address matching.
type Domains struct {
	Aliases   map[string]string `yaml:"aliases"`    // alias domain -> canonical domain
	StripPlus bool              `yaml:"strip_plus"` // treat a+tag@x as a@x
}

// Link is an operator's statement that accounts belong to one person.
type Link struct {
	Accounts []string `yaml:"accounts"` // account keys: "okta:00u1", "stonly:TEAM:email"
	Note     string   `yaml:"note"`
}

// Guard configures the mass-change guard.
type Guard struct {
	// MaxDrop is the fraction of accounts a source may lose against its last
	// complete snapshot before the source is treated as incomplete.
	MaxDrop *float64 `yaml:"max_drop"`
	// AcceptDrop lists sources whose drop the operator accepts for the next
	// run ("stonly"), or one part of a source ("stonly:TEAMID").
	AcceptDrop []string `yaml:"accept_drop"`
	// SourceTimeout bounds one source's whole read; a source still reading
	// then is stopped and recorded as incomplete, so that a stuck read (a
	// next link that repeats a page) never becomes an endless run.
	SourceTimeout time.Duration `yaml:"source_timeout"`
}

// DefaultSourceTimeout is the default bound of one source's read: ample
// for a million users, short enough that a stuck run ends before the
// next night's.
const DefaultSourceTimeout = 30 * time.Minute

// SourceTimeout returns the configured bound of one source's read.
func (c *Config) SourceTimeout() time.Duration {
	if c.Guard.SourceTimeout > 0 {
		return c.Guard.SourceTimeout
	}
	return DefaultSourceTimeout
}

// Serve configures `idgraph serve`.
type Serve struct {
	Listen   string `yaml:"listen"`
	TokenEnv string `yaml:"token_env"` // bearer token for the API and scripts
	UsersEnv string `yaml:"users_env"` // reviewers: "alice@acme.com:password,bob@acme.com:password"
	Schedule string `yaml:"schedule"`
	// SessionSecretEnv names the variable holding the key of sign-in
	// sessions and CSRF tokens (at least 32 characters); required with
	// users_env, so that sessions outlive a restart.
	SessionSecretEnv string `yaml:"session_secret_env"`
	// TLSCertFile and TLSKeyFile serve HTTPS (PEM files, relative to the
	// configuration's folder); both or neither.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// TrustProxy believes a reverse proxy's X-Forwarded-Proto, -Host and
	// -For headers (https, the public host, the client address). Only set
	// it when every request comes through that proxy.
	TrustProxy bool `yaml:"trust_proxy"`
	// Timezone is the IANA time zone (tz database name, "Europe/Paris")
	// whose clocks the schedule follows; empty: the machine's local zone.
	Timezone string `yaml:"timezone"`
}

func (s *Serve) validate(file string) error {
	if (s.TLSCertFile == "") != (s.TLSKeyFile == "") {
		return errorf("%s: serve.tls_cert_file and serve.tls_key_file go together: set both (PEM certificate chain and private key) or neither", file)
	}
	if s.Timezone == "" {
		return nil
	}
	if _, err := time.LoadLocation(s.Timezone); err != nil {
		return errorf("%s: serve.timezone %q is not a time zone of the tz database (%v): use an IANA name such as Europe/Paris, America/New_York or UTC, or leave it out for the machine's local zone", file, s.Timezone, err)
	}
	if tz, _, ok := strings.Cut(strings.TrimSpace(s.Schedule), " "); ok && (strings.HasPrefix(tz, "CRON_TZ=") || strings.HasPrefix(tz, "TZ=")) {
		return errorf("%s: serve.schedule begins with %s and serve.timezone is %s: name the zone once, in serve.timezone", file, tz, s.Timezone)
	}
	return nil
}

// Review configures reviewer decisions.
type Review struct {
	// MaxApproval bounds how far ahead an approval or an exception may end;
	// zero: one year.
	MaxApproval time.Duration `yaml:"max_approval"`
	// PrivilegedRoles are the roles whose removal or change needs a second
	// reviewer; empty: Admin and Owner.
	PrivilegedRoles []string `yaml:"privileged_roles"`
	// Owners names each application's owner, who reviews its campaign
	// items under route "owner" and whenever no other reviewer fits:
	// {stonly: alice@acme.com}.
	Owners map[string]string `yaml:"owners"`
	// Route is how a campaign routes an item to a reviewer: "owner" (the
	// application's owner, the default), "manager" (the person's manager as
	// an IdP records it) or "reviewer" (Reviewer, one named person).
	Route    string `yaml:"route"`
	Reviewer string `yaml:"reviewer"`
	// FallbackReviewer reviews what the route cannot give to anyone else:
	// a reviewer's own access, a person without a manager, an application
	// without an owner.
	FallbackReviewer string `yaml:"fallback_reviewer"`
}

// Run configures the process of a run.
type Run struct {
	// MemoryLimit is the soft limit of the Go heap for run, demo and serve
	// (runtime/debug.SetMemoryLimit), e.g. "2GiB": the collector keeps
	// garbage below it instead of letting the heap double. "" or 0: none.
	// The GOMEMLIMIT environment variable, when set, wins.
	MemoryLimit string `yaml:"memory_limit"`
}

// Bytes returns the memory limit in bytes, 0 for none.
func (r Run) Bytes() (int64, error) {
	v := strings.TrimSpace(r.MemoryLimit)
	if v == "" || v == "0" {
		return 0, nil
	}
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"B", 1}} {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			x, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
			if err != nil || x <= 0 {
				break
			}
			return x * u.mult, nil
		}
	}
	return 0, fmt.Errorf("run.memory_limit %q is not a size: write it as GOMEMLIMIT does, e.g. 2GiB or 512MiB", r.MemoryLimit)
}

// Remediation configures the actions idgraph carries out in applications
// (docs/RULES.md, "Remediation"). Nothing is changed unless Enabled.
type Remediation struct {
	// Enabled is the kill switch: false (the default) disables every action.
	Enabled bool `yaml:"enabled"`
	// MaxActions caps one batch; a plan with more actions stops before it
	// starts. Zero: 10.
	MaxActions int `yaml:"max_actions"`
	// MaxShare caps one batch to a fraction of an application's accounts
	// (0.05: 5%). Zero: 0.05.
	MaxShare float64 `yaml:"max_share"`
	// MaxAge is how old the application's last complete read may be when
	// actions run; older, they wait for a fresh read. Zero: 24h.
	MaxAge time.Duration `yaml:"max_age"`
}

// Remediation defaults.
const (
	DefaultMaxActions = 10
	DefaultMaxShare   = 0.05
	DefaultMaxAge     = 24 * time.Hour
)

// Limits returns the remediation caps with defaults applied.
func (r Remediation) Limits() (maxActions int, maxShare float64, maxAge time.Duration) {
	maxActions, maxShare, maxAge = r.MaxActions, r.MaxShare, r.MaxAge
	if maxActions == 0 {
		maxActions = DefaultMaxActions
	}
	if maxShare == 0 {
		maxShare = DefaultMaxShare
	}
	if maxAge == 0 {
		maxAge = DefaultMaxAge
	}
	return maxActions, maxShare, maxAge
}

// Evidence configures the copy of the evidence chain outside the store.
type Evidence struct {
	// LogFile is an append-only file that receives one JSON line per entry
	// of the evidence chain, for shipping to a write-once store; "" for none.
	LogFile string `yaml:"log_file"`
}

// Report configures what every run writes besides the snapshot.
type Report struct {
	Dir string `yaml:"dir"` // folder for report.html, report.md and exports; empty: none
}

// Alerts configures drift alerts. Endpoints and keys are named by
// environment variable: a webhook URL is a secret.
type Alerts struct {
	Slack       *SlackAlerts   `yaml:"slack"`
	Webhook     *WebhookAlerts `yaml:"webhook"`
	MinSeverity string         `yaml:"min_severity"` // lowest severity that alerts; default medium
}

// SlackAlerts is a Slack incoming webhook.
type SlackAlerts struct {
	WebhookURLEnv string `yaml:"webhook_url_env"`
}

// WebhookAlerts is a generic JSON webhook signed with HMAC-SHA256.
type WebhookAlerts struct {
	URLEnv    string `yaml:"url_env"`
	SecretEnv string `yaml:"secret_env"`
}

// Config is the whole configuration file.
type Config struct {
	Store string `yaml:"store"`
	// Roles are the role rules by application; a top-level list (the
	// single-application form) is under "", for the one application.
	Roles    map[string][]RoleRule `yaml:"-"`
	Domains  Domains               `yaml:"domains"`
	Links    []Link                `yaml:"links"`
	Guard    Guard                 `yaml:"guard"`
	Serve    Serve                 `yaml:"serve"`
	Report   Report                `yaml:"report"`
	Review   Review                `yaml:"review"`
	Evidence Evidence              `yaml:"evidence"`
	Alerts   Alerts                `yaml:"alerts"`

	Remediation Remediation `yaml:"remediation"`
	Run         Run         `yaml:"run"`

	// Sources holds the subtree of every source key, in file order.
	Sources []SourceNode `yaml:"-"`

	File string `yaml:"-"` // absolute path of the file
	Dir  string `yaml:"-"`
	Hash string `yaml:"-"` // SHA-256 of the file's bytes, for evidence manifests
}

// SourceNode is the configuration subtree of one source key.
type SourceNode struct {
	Name string
	Node *yaml.Node
}

// DefaultMaxDrop is the mass-change guard's default fraction.
const DefaultMaxDrop = 0.20

// MaxDrop returns the configured guard fraction.
func (c *Config) MaxDrop() float64 {
	if c.Guard.MaxDrop != nil {
		return *c.Guard.MaxDrop
	}
	return DefaultMaxDrop
}

// Path resolves p against the configuration file's folder.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// Error is a configuration problem; the CLI maps it to exit code 2.
type Error struct{ Err error }

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func errorf(format string, args ...any) error {
	return &Error{fmt.Errorf(format, args...)}
}

// Load reads and validates the file at path. sources are the registered
// source names that may appear as top-level keys.
func Load(path string, sources []string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{fmt.Errorf("reading configuration: %w", err)}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &Error{err}
	}
	return Parse(data, abs, sources)
}

// Parse validates configuration bytes; file names them in errors.
func Parse(data []byte, file string, sources []string) (*Config, error) {
	isSource := map[string]bool{}
	for _, s := range sources {
		isSource[s] = true
	}
	sum := sha256.Sum256(data)
	cfg := &Config{File: file, Dir: filepath.Dir(file), Hash: hex.EncodeToString(sum[:])}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errorf("%s: the file is empty", file)
		}
		return nil, errorf("%s: %v", file, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errorf("%s: the configuration must be a YAML mapping of keys to values", file)
	}
	root := doc.Content[0]
	core := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	known := yamlx.FieldNames(reflect.TypeOf(*cfg))
	known["roles"] = true // decoded by decodeRoles: a list or a mapping by application
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if line, dup := seen[k.Value]; dup {
			return nil, errorf("%s:%d: key %q appears twice (first on line %d)", file, k.Line, k.Value, line)
		}
		seen[k.Value] = k.Line
		switch {
		case known[k.Value]:
			core.Content = append(core.Content, k, v)
		case isSource[k.Value]:
			cfg.Sources = append(cfg.Sources, SourceNode{Name: k.Value, Node: v})
		default:
			all := map[string]bool{}
			for n := range known {
				all[n] = true
			}
			for n := range isSource {
				all[n] = true
			}
			return nil, errorf("%s:%d: unknown key %q%s", file, k.Line, k.Value, yamlx.Suggest(k.Value, all))
		}
	}
	for i := 0; i+1 < len(core.Content); i += 2 {
		if core.Content[i].Value == "roles" {
			roles, err := decodeRoles(core.Content[i+1], file)
			if err != nil {
				return nil, err
			}
			cfg.Roles = roles
			core.Content = slices.Delete(core.Content, i, i+2)
			break
		}
	}
	if err := CheckKnown(core, reflect.TypeOf(*cfg), "", file); err != nil {
		return nil, err
	}
	if err := core.Decode(cfg); err != nil {
		return nil, errorf("%s: %v", file, err)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (c *Config) validate() error {
	if strings.TrimSpace(c.Store) == "" {
		return errorf("%s: store is required (the SQLite file, e.g. store: idgraph.db)", c.File)
	}
	for _, app := range slices.Sorted(maps.Keys(c.Roles)) {
		if err := validateRules(c.File, app, c.Roles[app]); err != nil {
			return err
		}
	}
	for alias, canon := range c.Domains.Aliases {
		if strings.Contains(alias, "@") || strings.Contains(canon, "@") || alias == "" || canon == "" {
			return errorf("%s: domains.aliases: %q: %q must map a domain to a domain, without @", c.File, alias, canon)
		}
	}
	for i, l := range c.Links {
		if len(l.Accounts) < 2 {
			return errorf("%s: links[%d]: accounts needs at least two account keys", c.File, i)
		}
	}
	switch c.Alerts.MinSeverity {
	case "", "info", "low", "medium", "high", "critical":
	default:
		return errorf("%s: alerts.min_severity must be info, low, medium, high or critical, not %q", c.File, c.Alerts.MinSeverity)
	}
	if s := c.Alerts.Slack; s != nil && s.WebhookURLEnv == "" {
		return errorf("%s: alerts.slack.webhook_url_env is required (the environment variable holding the webhook URL)", c.File)
	}
	if w := c.Alerts.Webhook; w != nil && (w.URLEnv == "" || w.SecretEnv == "") {
		return errorf("%s: alerts.webhook needs url_env and secret_env (environment variables holding the URL and the HMAC key)", c.File)
	}
	if err := c.Serve.validate(c.File); err != nil {
		return err
	}
	if c.Guard.MaxDrop != nil && (*c.Guard.MaxDrop <= 0 || *c.Guard.MaxDrop > 1) {
		return errorf("%s: guard.max_drop must be a fraction in (0, 1], e.g. 0.2", c.File)
	}
	if c.Review.MaxApproval < 0 || (c.Review.MaxApproval > 0 && c.Review.MaxApproval < 24*time.Hour) {
		return errorf("%s: review.max_approval must be at least 24h, e.g. 8760h for a year (got %s)", c.File, c.Review.MaxApproval)
	}
	switch c.Review.Route {
	case "", "owner", "manager":
	case "reviewer":
		if !strings.Contains(c.Review.Reviewer, "@") {
			return errorf("%s: review.route is reviewer: review.reviewer must name the reviewer's e-mail address", c.File)
		}
	default:
		return errorf("%s: review.route must be owner, manager or reviewer, not %q", c.File, c.Review.Route)
	}
	for app, owner := range c.Review.Owners {
		if !strings.Contains(owner, "@") {
			return errorf("%s: review.owners.%s: %q is not an e-mail address", c.File, app, owner)
		}
	}
	if _, err := c.Run.Bytes(); err != nil {
		return errorf("%s: %v", c.File, err)
	}
	if r := c.Remediation; r.MaxActions < 0 || r.MaxShare < 0 || r.MaxShare > 1 || r.MaxAge < 0 {
		return errorf("%s: remediation: max_actions must be a positive count, max_share a fraction in (0, 1], max_age a positive duration", c.File)
	}
	if c.Guard.SourceTimeout < 0 || (c.Guard.SourceTimeout > 0 && c.Guard.SourceTimeout < time.Second) {
		return errorf("%s: guard.source_timeout must be at least 1s, e.g. 30m (got %s)", c.File, c.Guard.SourceTimeout)
	}
	return nil
}

// Section returns a constructor of errors about keys of one section of
// file: Section("idgraph.yaml", "okta")("app_id is required") reads
// "idgraph.yaml: okta.app_id is required".
func Section(file, section string) func(format string, args ...any) error {
	return func(format string, args ...any) error {
		return &Error{Err: fmt.Errorf("%s: %s.%s", file, section, fmt.Sprintf(format, args...))}
	}
}

// CheckKnown reports the first mapping key under node that the Go type t
// does not declare, as "file:line: unknown key a.b.c" (a *Error). Sources
// use it to validate their own subtrees with the same wording.
func CheckKnown(node *yaml.Node, t reflect.Type, path, file string) error {
	if err := yamlx.CheckKnown(node, t, path, file); err != nil {
		return &Error{err}
	}
	return nil
}

// DecodeStrict checks node against v's type, then decodes it; errors are
// *Error.
func DecodeStrict(node *yaml.Node, v any, path, file string) error {
	if err := yamlx.DecodeStrict(node, v, path, file); err != nil {
		return &Error{err}
	}
	return nil
}
