// Package collectors defines the contract every source of idgraph implements
// (an identity provider such as Okta or Entra ID, or an application such as
// Stonly) and a registry of sources by name.
//
// A source package registers a Factory in its init function, the way
// database/sql drivers do; the registry is written only during program
// initialisation and read afterwards, so it holds no mutable run state.
package collectors

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/idgraph/idgraph/config"
)

// Kind says what a source can tell: who should have access (an IdP) or who
// has access (an app).
type Kind string

const (
	KindIdP Kind = "idp"
	KindApp Kind = "app"
)

// Status is an account's state normalised across sources.
type Status string

const (
	// StatusActive: the account can be used (Okta ACTIVE, PASSWORD_EXPIRED,
	// LOCKED_OUT, RECOVERY; Entra accountEnabled; a joined app member).
	StatusActive Status = "active"
	// StatusStaged: known to the IdP but not yet active (Okta STAGED,
	// PROVISIONED).
	StatusStaged Status = "staged"
	// StatusInactive: suspended, deprovisioned or disabled.
	StatusInactive Status = "inactive"
	// StatusInvited: an app invitation not yet accepted; never a member.
	StatusInvited Status = "invited"
)

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusActive, StatusStaged, StatusInactive, StatusInvited:
		return true
	}
	return false
}

// Address is one address a source knows for an account, with the field it
// came from, so that a correlation can say which field matched.
type Address struct {
	Field string `json:"field"` // e.g. "login", "email", "proxyAddresses"
	Value string `json:"value"`
}

// Account is one record read from one source.
type Account struct {
	Source      string    `json:"source"`         // name of the source that read it
	ID          string    `json:"id"`             // unique within the source (and team, for apps)
	Team        string    `json:"team,omitempty"` // app sources: team id
	TeamName    string    `json:"team_name,omitempty"`
	Email       string    `json:"email"` // primary address as the source shows it
	Addresses   []Address `json:"addresses,omitempty"`
	DisplayName string    `json:"display_name,omitempty"`
	EmployeeID  string    `json:"employee_id,omitempty"`
	Status      Status    `json:"status"`
	RawStatus   string    `json:"raw_status,omitempty"` // the source's own word, kept for evidence
	Guest       bool      `json:"guest,omitempty"`
	// StatusChanged is when the source last changed the status, when known
	// (it dates a leaver: "left Okta on 2026-10-02").
	StatusChanged time.Time `json:"status_changed,omitzero"`
	LastActivity  time.Time `json:"last_activity,omitzero"`

	// IdP sources.
	Groups       []string `json:"groups,omitempty"`        // direct memberships
	NestedGroups []string `json:"nested_groups,omitempty"` // reached only through nesting: explanation, never a grant
	// Assignments are the applications this IdP assigns the account, one
	// record per application, in force or not (an INACTIVE Okta app user
	// is recorded, not in force, so that the evidence can say why it
	// grants nothing).
	Assignments []Assignment `json:"assignments,omitempty"`
	// Manager is the address (login or e-mail) of the account's manager as
	// the IdP records it (Okta profile managerId/manager, Entra's manager
	// relation); campaigns route a person's review to their manager.
	Manager string `json:"manager,omitempty"`

	// App sources.
	Role string `json:"role,omitempty"` // verbatim role text (Owner, Admin, Member, or unknown text)
}

// Assignment is what one IdP says about one application for one account.
type Assignment struct {
	// App is the application's short name as configured (okta.apps,
	// entra.apps). "" comes from a single-app key (okta.app_id,
	// entra.service_principal_id): the run resolves it to the one
	// configured application.
	App     string   `json:"app"`
	InForce bool     `json:"in_force"`        // the assignment grants access now
	Via     []string `json:"via,omitempty"`   // why: "direct", "group Stonly Admins (priority 1)"
	Roles   []string `json:"roles,omitempty"` // role values the assignment carries
}

// Assign returns the account's assignment record for app, adding an
// empty one (not in force) when there is none.
func (a *Account) Assign(app string) *Assignment {
	for i := range a.Assignments {
		if a.Assignments[i].App == app {
			return &a.Assignments[i]
		}
	}
	a.Assignments = append(a.Assignments, Assignment{App: app})
	return &a.Assignments[len(a.Assignments)-1]
}

// Assignment returns the account's record for app, in force or not, or nil.
func (a *Account) Assignment(app string) *Assignment {
	for i := range a.Assignments {
		if a.Assignments[i].App == app {
			return &a.Assignments[i]
		}
	}
	return nil
}

// AssignedTo reports whether the account holds an assignment of app that
// is in force.
func (a *Account) AssignedTo(app string) bool {
	as := a.Assignment(app)
	return as != nil && as.InForce
}

// ResolveApp names the assignments of app "" (from single-app keys, or
// read from a snapshot written before applications were a dimension) app.
func (a *Account) ResolveApp(app string) {
	for i := range a.Assignments {
		if a.Assignments[i].App == "" {
			a.Assignments[i].App = app
		}
	}
}

// Key identifies an account across snapshots: source, team and id.
func (a *Account) Key() string {
	if a.Team != "" {
		return a.Source + ":" + a.Team + ":" + a.ID
	}
	return a.Source + ":" + a.ID
}

// Completeness is a source's own account of how well a collection went.
// Complete is true only when every page of every read finished.
type Completeness struct {
	Source   string        `json:"source"`
	Kind     Kind          `json:"kind"`
	Complete bool          `json:"complete"`
	Pages    int           `json:"pages"`
	Records  int           `json:"records"`
	Requests int           `json:"requests"`
	Retries  int           `json:"retries"`
	Waited   time.Duration `json:"waited_ns"` // time spent waiting for rate limits
	Errors   []string      `json:"errors,omitempty"`
	Warnings []string      `json:"warnings,omitempty"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	Mode     string        `json:"mode,omitempty"` // e.g. "full", "delta"
	// Parts are the partitions the source read, each with its own count
	// (a Stonly team, an IdP list such as "users" or "app_users"). The
	// pipeline guards each part against its own last complete count, and a
	// part read in the last complete snapshot that is absent now makes the
	// source incomplete: a team that vanished is never "everyone left".
	Parts []Part `json:"parts,omitempty"`
}

// Part is one partition of a source's read.
type Part struct {
	Kind    string `json:"kind"`           // "team", "list"
	ID      string `json:"id"`             // stable across runs: a team id, a list name
	Name    string `json:"name,omitempty"` // what a person calls it: the team's name
	Records int    `json:"records"`        // records read in this part
	// Shown is the total the source itself displayed for the part (a
	// member count on the page, a total in an API answer); 0 when none.
	// A source whose rows read differ from Shown must be incomplete.
	Shown int `json:"shown,omitempty"`
	// Fix says what an operator does when this part can no longer be read
	// (e.g. "give it-bot@acme.com the Admin role in team Support again").
	Fix string `json:"fix,omitempty"`
}

// AddPart records a part read.
func (c *Completeness) AddPart(p Part) { c.Parts = append(c.Parts, p) }

// Fail marks the record incomplete and keeps err's message.
func (c *Completeness) Fail(err error) {
	c.Complete = false
	if err != nil {
		c.Errors = append(c.Errors, err.Error())
	}
}

// Result is what one collection read.
type Result struct {
	Accounts     []Account    `json:"accounts"`
	Completeness Completeness `json:"completeness"`
	// State is opaque data the source wants back on its next run (e.g. a
	// Graph delta link). It is stored with the snapshot.
	State string `json:"-"`
	// Policies are what an IdP says about how the applications it assigns
	// are reached (Entra's appRoleAssignmentRequired), one per app it read.
	Policies []AppPolicy `json:"policies,omitempty"`
}

// AppPolicy is how an IdP lets users reach one application.
type AppPolicy struct {
	App   string `json:"app"`    // the application's short name; "" for a single-app key
	AppID string `json:"app_id"` // the IdP's id: an Okta app id, an Entra service principal id
	// OpenAccess: every enabled user of the IdP may sign in without an
	// assignment (Entra appRoleAssignmentRequired: false). The IdP then says
	// who should have the app, never who should not.
	OpenAccess bool   `json:"open_access"`
	Detail     string `json:"detail,omitempty"` // evidence, e.g. "appRoleAssignmentRequired is false on service principal …"
}

// Previous is what the last complete snapshot knew of this source, for
// incremental reads.
type Previous struct {
	State    string
	Accounts []Account
}

// Request carries what a collection needs besides its configuration.
type Request struct {
	Previous *Previous // nil: no usable earlier snapshot
	Full     bool      // force a full read even when State allows a delta
	Logger   *slog.Logger
	Progress func(Progress) // optional; called from the collecting goroutine
}

// Progress is a point-in-time report of a collection under way.
type Progress struct {
	Source  string
	Stage   string // e.g. "users", "team Support Center"
	Pages   int
	Records int
	Retries int
	Waited  time.Duration
}

// Report sends p to the request's progress callback, if any.
func (r *Request) Report(p Progress) {
	if r.Progress != nil {
		r.Progress(p)
	}
}

// Log returns the request's logger, or a discarding one.
func (r *Request) Log() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Info describes a configured source.
type Info struct {
	Name string `json:"name"`
	// Type is the configuration key (registry name) that built the source:
	// "okta" for every Okta org, whatever each instance is named. Role rules
	// such as okta_group apply to every source of that type.
	Type  string `json:"type,omitempty"`
	Kind  Kind   `json:"kind"`
	App   string `json:"app,omitempty"`   // the application an app source reads, e.g. "stonly"
	Title string `json:"title,omitempty"` // how people write the application's name, e.g. "Stonly"
	// Roles is the application's role ladder, lowest to highest privilege
	// (app sources).
	Roles   []string `json:"roles,omitempty"`
	Version string   `json:"version"` // collector version, for evidence manifests
}

// Collector is implemented by every source.
//
// Collect returns what it read even when it fails: the Result's
// Completeness says whether the list is whole. A non-nil error always comes
// with Completeness.Complete == false.
type Collector interface {
	Info() Info
	Collect(ctx context.Context, req Request) (*Result, error)
}

// Env is what a factory may use to build collectors from configuration.
type Env struct {
	File   string              // configuration file, for error messages
	Dir    string              // its directory: relative paths resolve against it
	Getenv func(string) string // secrets are read through this, never from the file
	Logger *slog.Logger
}

// Secret returns the value of the environment variable named by the
// configuration key key, or an error naming the key and the variable.
func (e Env) Secret(key, envName string) (string, error) {
	if envName == "" {
		return "", fmt.Errorf("%s: %s is required (the name of an environment variable holding the secret)", e.File, key)
	}
	v := e.Getenv(envName)
	if v == "" {
		return "", fmt.Errorf("%s: %s names environment variable %s, which is not set or empty", e.File, key, envName)
	}
	return v, nil
}

// Factory builds the collectors configured under one top-level key of the
// configuration file. A key may configure several sources (csvfile does).
type Factory func(node *yaml.Node, env Env) ([]Collector, error)

// One adapts the constructor of a source configured by one YAML mapping
// into a Factory: the subtree is decoded strictly (unknown keys are errors
// naming file, line and key), then built.
func One[C any](section string, build func(C, Env) (Collector, error)) Factory {
	return func(node *yaml.Node, env Env) ([]Collector, error) {
		var cfg C
		if err := config.DecodeStrict(node, &cfg, section, env.File); err != nil {
			return nil, err
		}
		c, err := build(cfg, env)
		if err != nil {
			return nil, err
		}
		return []Collector{c}, nil
	}
}

// OneOrMany adapts the constructor of a source that may be configured
// once (a mapping: one source named after the section) or several times (a
// sequence of mappings, each with a distinct `name`: two Okta orgs after an
// acquisition). The `name` key is taken out of each mapping before the
// rest is decoded strictly into C, so C does not declare it.
func OneOrMany[C any](section string, build func(name string, cfg C, env Env) (Collector, error)) Factory {
	return func(node *yaml.Node, env Env) ([]Collector, error) {
		if node.Kind != yaml.SequenceNode {
			var cfg C
			if err := config.DecodeStrict(node, &cfg, section, env.File); err != nil {
				return nil, err
			}
			c, err := build(section, cfg, env)
			if err != nil {
				return nil, err
			}
			return []Collector{c}, nil
		}
		if len(node.Content) == 0 {
			return nil, &config.Error{Err: fmt.Errorf("%s:%d: %s: the list is empty; remove the key or configure one source", env.File, node.Line, section)}
		}
		seen := map[string]bool{}
		var out []Collector
		for i, item := range node.Content {
			at := fmt.Sprintf("%s[%d]", section, i)
			if item.Kind != yaml.MappingNode {
				return nil, &config.Error{Err: fmt.Errorf("%s:%d: %s: want a mapping with name and the %s keys", env.File, item.Line, at, section)}
			}
			name := ""
			rest := &yaml.Node{Kind: yaml.MappingNode, Tag: item.Tag, Line: item.Line, Column: item.Column}
			for j := 0; j+1 < len(item.Content); j += 2 {
				if item.Content[j].Value == "name" {
					name = strings.TrimSpace(item.Content[j+1].Value)
					continue
				}
				rest.Content = append(rest.Content, item.Content[j], item.Content[j+1])
			}
			switch {
			case name == "":
				return nil, &config.Error{Err: fmt.Errorf("%s:%d: %s: name is required when %s lists several sources", env.File, item.Line, at, section)}
			case seen[name]:
				return nil, &config.Error{Err: fmt.Errorf("%s:%d: %s: name %q is used twice", env.File, item.Line, at, name)}
			}
			seen[name] = true
			var cfg C
			if err := config.DecodeStrict(rest, &cfg, at, env.File); err != nil {
				return nil, err
			}
			c, err := build(name, cfg, env)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, nil
	}
}

var (
	regMu    sync.RWMutex
	registry = map[string]Factory{}
)

// Register makes a source available under the configuration key name. It
// is meant to be called from init functions and panics on a duplicate.
func Register(name string, f Factory) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("collectors: Register called twice for " + name)
	}
	registry[name] = f
}

// Lookup returns the factory registered under name.
func Lookup(name string) (Factory, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	f, ok := registry[name]
	return f, ok
}

// Names lists the registered sources in order.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Check is one line of `idgraph doctor`.
type Check struct {
	Name   string // what was checked, e.g. "token", "read users"
	OK     bool
	Detail string // what was seen
	Fix    string // what to do when it failed
}

// Incremental is implemented by sources that can read only what changed
// since their last complete read, given its accounts and state
// (Request.Previous). Incremental reports whether this one is configured to.
type Incremental interface {
	Incremental() bool
}

// Checker is implemented by sources that can check their credentials,
// permissions and reachability without a full read.
type Checker interface {
	Check(ctx context.Context) []Check
}
