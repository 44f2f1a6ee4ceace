// Package csvfile is a source that reads an application's member list or
// an identity provider's user list from a CSV export. Real teams need it
// for apps without an API; it also lets the pipeline run end to end on
// local files.
//
// Configuration (a list: one entry per file):
//
//	csvfile:
//	  - name: stonly-export      # the source's name in findings and reports
//	    kind: app                # app or idp
//	    app: stonly              # app sources: which application
//	    title: Stonly            # optional: how people write its name
//	    roles: [Member, Admin, Owner] # optional: its role ladder, lowest first
//	    path: stonly-members.csv # relative to the configuration file
//
// An IdP export's assigned and app_roles columns are about one
// application: app names it (optional while one application is
// configured).
//
// The header row names the columns, in any order: email (required),
// display_name (or name), role, status, team, team_name, id, employee_id,
// groups and app_roles (";"-separated), assigned (true/false), other_emails
// (";"-separated), status_changed and last_activity (RFC 3339 or
// YYYY-MM-DD). Every bad row is reported with file and line, and makes the
// source incomplete: no row is skipped silently.
package csvfile

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
)

// Version is recorded in evidence manifests.
const Version = "csvfile/1"

func init() { collectors.Register("csvfile", New) }

// FileConfig configures one file.
type FileConfig struct {
	Name  string   `yaml:"name"`
	Kind  string   `yaml:"kind"`
	App   string   `yaml:"app"`
	Title string   `yaml:"title"`
	Roles []string `yaml:"roles"`
	Path  string   `yaml:"path"`
}

// DefaultRoles is the ladder of an app export that declares none: the
// roles this source ranked before ladders were configurable.
var DefaultRoles = []string{"Member", "Admin", "Owner"}

// New builds one collector per configured file.
func New(node *yaml.Node, env collectors.Env) ([]collectors.Collector, error) {
	var files []FileConfig
	if err := config.DecodeStrict(node, &files, "csvfile", env.File); err != nil {
		return nil, err
	}
	var out []collectors.Collector
	seen := map[string]bool{}
	for i, f := range files {
		at := fmt.Sprintf("%s: csvfile[%d]", env.File, i)
		switch {
		case f.Name == "":
			return nil, &config.Error{Err: fmt.Errorf("%s: name is required", at)}
		case seen[f.Name]:
			return nil, &config.Error{Err: fmt.Errorf("%s: name %q is used twice", at, f.Name)}
		case f.Kind != string(collectors.KindApp) && f.Kind != string(collectors.KindIdP):
			return nil, &config.Error{Err: fmt.Errorf("%s: kind must be app or idp, not %q", at, f.Kind)}
		case f.Kind == string(collectors.KindApp) && f.App == "":
			return nil, &config.Error{Err: fmt.Errorf("%s: an app source needs app (e.g. app: stonly)", at)}
		case f.Path == "":
			return nil, &config.Error{Err: fmt.Errorf("%s: path is required", at)}
		case f.Kind == string(collectors.KindIdP) && (f.Title != "" || len(f.Roles) > 0):
			return nil, &config.Error{Err: fmt.Errorf("%s: title and roles describe an application: they go on an app source, not on an idp export", at)}
		}
		for j, r := range f.Roles {
			if strings.TrimSpace(r) == "" || slices.ContainsFunc(f.Roles[:j], func(o string) bool { return strings.EqualFold(o, r) }) {
				return nil, &config.Error{Err: fmt.Errorf("%s: roles[%d]: %q is empty or listed twice; list each role once, lowest first", at, j, r)}
			}
		}
		seen[f.Name] = true
		if !strings.HasPrefix(f.Path, "/") && env.Dir != "" {
			f.Path = env.Dir + "/" + f.Path
		}
		out = append(out, &Source{cfg: f})
	}
	return out, nil
}

// Source reads one CSV file.
type Source struct{ cfg FileConfig }

// NewSource builds a source directly, for tests and tools.
func NewSource(name string, kind collectors.Kind, app, path string) *Source {
	return &Source{cfg: FileConfig{Name: name, Kind: string(kind), App: app, Path: path}}
}

// Info describes the source.
func (s *Source) Info() collectors.Info {
	in := collectors.Info{Name: s.cfg.Name, Type: "csvfile", Kind: collectors.Kind(s.cfg.Kind), Version: Version}
	if in.Kind == collectors.KindApp {
		in.App, in.Title, in.Roles = s.cfg.App, s.cfg.Title, s.cfg.Roles
		if len(in.Roles) == 0 {
			in.Roles = DefaultRoles
		}
	}
	return in
}

// Collect reads the file.
func (s *Source) Collect(ctx context.Context, req collectors.Request) (*collectors.Result, error) {
	start := time.Now()
	res := &collectors.Result{Completeness: collectors.Completeness{
		Source: s.cfg.Name, Kind: collectors.Kind(s.cfg.Kind), Started: start, Mode: "full"}}
	defer func() { res.Completeness.Duration = time.Since(start) }()
	data, err := os.ReadFile(s.cfg.Path)
	if err != nil {
		err = fmt.Errorf("%s: %w", s.cfg.Name, err)
		res.Completeness.Fail(err)
		return res, err
	}
	accounts, rowErrs, err := Parse(bytes.NewReader(data), s.cfg.Path, s.cfg.Name, collectors.Kind(s.cfg.Kind))
	if s.cfg.Kind == string(collectors.KindIdP) && s.cfg.App != "" {
		for i := range accounts {
			accounts[i].ResolveApp(s.cfg.App) // the export's assignments are of this application
		}
	}
	res.Accounts = accounts
	res.Completeness.Pages = 1
	res.Completeness.Records = len(accounts)
	for _, e := range rowErrs {
		res.Completeness.Errors = append(res.Completeness.Errors, e.Error())
	}
	res.Completeness.Complete = err == nil && len(rowErrs) == 0
	req.Report(collectors.Progress{Source: s.cfg.Name, Stage: "file", Pages: 1, Records: len(accounts)})
	if err != nil {
		res.Completeness.Fail(err)
		return res, err
	}
	if len(rowErrs) > 0 {
		return res, fmt.Errorf("%s: %d bad rows (first: %w)", s.cfg.Name, len(rowErrs), rowErrs[0])
	}
	return res, nil
}

// RowError is a bad row.
type RowError struct {
	File string
	Line int
	Msg  string
}

func (e *RowError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

var knownColumns = map[string]string{
	"email": "email", "e-mail": "email", "mail": "email",
	"display_name": "display_name", "name": "display_name", "displayname": "display_name", "full_name": "display_name",
	"role": "role", "status": "status", "team": "team", "team_id": "team", "team_name": "team_name",
	"id": "id", "employee_id": "employee_id", "employeeid": "employee_id",
	"groups": "groups", "app_roles": "app_roles", "assigned": "assigned", "assigned_via": "assigned_via",
	"other_emails": "other_emails", "login": "login", "status_changed": "status_changed",
	"last_activity": "last_activity", "last_login": "last_activity", "guest": "guest",
}

// Parse reads accounts from r. It returns the good rows, one error per bad
// row, and a fatal error when the file cannot be read as CSV at all.
func Parse(r io.Reader, file, source string, kind collectors.Kind) ([]collectors.Account, []error, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("%s: the file is empty; expected a header row naming the columns", file)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimPrefix(h, "\ufeff")
		n := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(h)), " ", "_")
		canon, ok := knownColumns[n]
		if !ok {
			return nil, nil, fmt.Errorf("%s:1: unknown column %q (known: email, display_name, role, status, team, team_name, id, employee_id, groups, app_roles, assigned, other_emails, login, status_changed, last_activity, guest)", file, h)
		}
		if _, dup := col[canon]; dup {
			return nil, nil, fmt.Errorf("%s:1: column %q appears twice", file, h)
		}
		col[canon] = i
	}
	if _, ok := col["email"]; !ok {
		return nil, nil, fmt.Errorf("%s:1: the header has no email column", file)
	}
	if _, ok := col["status"]; !ok && kind == collectors.KindIdP {
		return nil, nil, fmt.Errorf("%s:1: an IdP export needs a status column (active, suspended, deprovisioned, ...)", file)
	}
	var out []collectors.Account
	var bad []error
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				// A quoting error desynchronises the reader: what follows
				// cannot be trusted, so stop here and say so.
				return out, bad, fmt.Errorf("%s:%d: %v; the rest of the file was not read", file, pe.Line, pe.Err)
			}
			return out, bad, fmt.Errorf("%s: %w", file, err)
		}
		if len(rec) == 0 || len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line carries no record
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			bad = append(bad, &RowError{file, line, fmt.Sprintf("%d fields, the header has %d", len(rec), len(header))})
			continue
		}
		a, err := row(rec, col, source, kind)
		if err != nil {
			bad = append(bad, &RowError{file, line, err.Error()})
			continue
		}
		if first, dup := seen[a.Key()]; dup {
			bad = append(bad, &RowError{file, line, fmt.Sprintf("duplicate record %s (first on line %d)", a.Key(), first)})
			continue
		}
		seen[a.Key()] = line
		out = append(out, a)
	}
	return out, bad, nil
}

func row(rec []string, col map[string]int, source string, kind collectors.Kind) (collectors.Account, error) {
	get := func(name string) string {
		if i, ok := col[name]; ok {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	a := collectors.Account{Source: source, Email: get("email"), DisplayName: get("display_name"),
		EmployeeID: get("employee_id"), Role: get("role"), Team: get("team"), TeamName: get("team_name"), ID: get("id")}
	if a.Email == "" {
		return a, errors.New("email is empty")
	}
	if !strings.Contains(a.Email, "@") {
		return a, fmt.Errorf("email %q is not an address", a.Email)
	}
	a.Addresses = []collectors.Address{{Field: "email", Value: a.Email}}
	if l := get("login"); l != "" {
		a.Addresses = append(a.Addresses, collectors.Address{Field: "login", Value: l})
	}
	for _, o := range split(get("other_emails")) {
		a.Addresses = append(a.Addresses, collectors.Address{Field: "other_emails", Value: o})
	}
	raw := get("status")
	st, err := status(raw, kind)
	if err != nil {
		return a, err
	}
	a.Status, a.RawStatus = st, raw
	if kind == collectors.KindApp {
		if a.Team == "" {
			a.Team = "default"
		}
		if a.Role == "" && a.Status == collectors.StatusActive {
			return a, errors.New("role is empty for an active member")
		}
	}
	if a.ID == "" {
		a.ID = strings.ToLower(a.Email)
	}
	a.Groups = split(get("groups"))
	if roles := split(get("app_roles")); len(roles) > 0 {
		a.Assign("").Roles = roles
	}
	if v := get("assigned"); v != "" {
		switch strings.ToLower(v) {
		case "true", "yes", "1", "y":
			as := a.Assign("")
			as.InForce = true
			as.Via = split(get("assigned_via"))
			if len(as.Via) == 0 {
				as.Via = []string{"assigned in the export"}
			}
		case "false", "no", "0", "n":
		default:
			return a, fmt.Errorf("assigned: %q is not true or false", v)
		}
	}
	if v := get("guest"); v != "" {
		a.Guest = strings.EqualFold(v, "true") || strings.EqualFold(v, "yes")
	}
	for name, dst := range map[string]*time.Time{"status_changed": &a.StatusChanged, "last_activity": &a.LastActivity} {
		if v := get(name); v != "" {
			t, err := parseTime(v)
			if err != nil {
				return a, fmt.Errorf("%s: %q is not a date (use RFC 3339 or YYYY-MM-DD)", name, v)
			}
			*dst = t
		}
	}
	return a, nil
}

func status(raw string, kind collectors.Kind) (collectors.Status, error) {
	s := strings.ToUpper(strings.TrimSpace(raw))
	if kind == collectors.KindApp {
		switch s {
		case "", "ACTIVE", "MEMBER", "JOINED":
			return collectors.StatusActive, nil
		case "INVITED", "PENDING", "PENDING_INVITATION", "INVITATION":
			return collectors.StatusInvited, nil
		case "INACTIVE", "DEACTIVATED", "DISABLED", "REMOVED":
			return collectors.StatusInactive, nil
		}
		return "", fmt.Errorf("status %q is not active, invited or inactive", raw)
	}
	switch s {
	case "ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY", "ENABLED":
		return collectors.StatusActive, nil
	case "STAGED", "PROVISIONED":
		return collectors.StatusStaged, nil
	case "SUSPENDED", "DEPROVISIONED", "DISABLED", "INACTIVE":
		return collectors.StatusInactive, nil
	case "":
		return "", errors.New("status is empty")
	}
	return "", fmt.Errorf("status %q is not one of ACTIVE, PASSWORD_EXPIRED, LOCKED_OUT, RECOVERY, STAGED, PROVISIONED, SUSPENDED, DEPROVISIONED, DISABLED", raw)
}

func split(v string) []string {
	if v == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(v, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", v)
}
