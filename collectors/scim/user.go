// This file maps a SCIM User (RFC 7643 §4.1) to an account: its status,
// addresses, names and the role that role_attribute names.

package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/idgraph/idgraph/collectors"
)

// multiValue is one value of a multi-valued attribute (RFC 7643 §2.4).
type multiValue struct {
	Value   string `json:"value"`
	Display string `json:"display"`
	Type    string `json:"type"`
	Primary bool   `json:"primary"`
}

// user is what idgraph reads of a User resource.
type user struct {
	ID         string `json:"id"`
	ExternalID string `json:"externalId"`
	UserName   string `json:"userName"`
	Name       *struct {
		Formatted  string `json:"formatted"`
		GivenName  string `json:"givenName"`
		FamilyName string `json:"familyName"`
	} `json:"name"`
	DisplayName  string          `json:"displayName"`
	Active       json.RawMessage `json:"active"`
	Emails       []multiValue    `json:"emails"`
	Roles        []multiValue    `json:"roles"`
	Entitlements []multiValue    `json:"entitlements"`
	Groups       []multiValue    `json:"groups"` // value: group id; display: its name
	Enterprise   *struct {
		EmployeeNumber string `json:"employeeNumber"`
	} `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`

	raw map[string]any
}

func parseUser(raw []byte) (*user, error) {
	var u user
	if err := json.Unmarshal(raw, &u); err != nil {
		return nil, fmt.Errorf("not a SCIM User: %v", err)
	}
	if err := json.Unmarshal(raw, &u.raw); err != nil {
		return nil, fmt.Errorf("not a SCIM User: %v", err)
	}
	if u.ID == "" {
		return nil, errors.New("a User without id (RFC 7643 §3.1 requires one)")
	}
	return &u, nil
}

// active reads the active attribute. RFC 7643 §4.1.1 makes it a boolean;
// some servers send the strings "True"/"False", read alike. A user
// without it is taken as active: the account exists, and reporting it is
// the safe side.
func (u *user) active() (bool, string, error) {
	if len(u.Active) == 0 || string(u.Active) == "null" {
		return true, "active absent", nil
	}
	var b bool
	if json.Unmarshal(u.Active, &b) == nil {
		return b, fmt.Sprintf("active=%t", b), nil
	}
	var s string
	if json.Unmarshal(u.Active, &s) == nil {
		switch strings.ToLower(s) {
		case "true":
			return true, "active=" + s, nil
		case "false":
			return false, "active=" + s, nil
		}
	}
	return false, "", fmt.Errorf("user %s: active is %s, not true or false", u.ID, u.Active)
}

// emails returns the addresses, the primary one first (RFC 7643 §2.4:
// "primary" marks the preferred value, at most once).
func (u *user) emails() []string {
	var out []string
	for _, e := range u.Emails {
		if v := strings.TrimSpace(e.Value); v != "" && e.Primary {
			out = append(out, v)
		}
	}
	for _, e := range u.Emails {
		if v := strings.TrimSpace(e.Value); v != "" && !e.Primary {
			out = append(out, v)
		}
	}
	return out
}

func (u *user) displayName() string {
	switch {
	case u.DisplayName != "":
		return u.DisplayName
	case u.Name == nil:
		return ""
	case u.Name.Formatted != "":
		return u.Name.Formatted
	}
	return strings.TrimSpace(u.Name.GivenName + " " + u.Name.FamilyName)
}

func (c *Collector) account(raw []byte) (collectors.Account, error) {
	u, err := parseUser(raw)
	if err != nil {
		return collectors.Account{}, err
	}
	active, rawStatus, err := u.active()
	if err != nil {
		return collectors.Account{}, err
	}
	a := collectors.Account{Source: c.name, ID: u.ID, DisplayName: u.displayName(), RawStatus: rawStatus,
		Status: collectors.StatusInactive}
	if active {
		a.Status = collectors.StatusActive
	}
	emails := u.emails()
	for _, e := range emails {
		a.Addresses = append(a.Addresses, collectors.Address{Field: "emails", Value: e})
	}
	// userName is often the sign-in address; when it is an address that
	// emails lack, it is one more key to correlate by. Names that are not
	// addresses are left out: correlation would reject them.
	if strings.Contains(u.UserName, "@") && !contains(emails, u.UserName) {
		a.Addresses = append(a.Addresses, collectors.Address{Field: "userName", Value: u.UserName})
	}
	// externalId is the provisioning client's identifier (RFC 7643 §3.1);
	// identity providers often fill it with the user's sign-in address.
	if strings.Contains(u.ExternalID, "@") && !contains(emails, u.ExternalID) && !strings.EqualFold(u.ExternalID, u.UserName) {
		a.Addresses = append(a.Addresses, collectors.Address{Field: "externalId", Value: u.ExternalID})
	}
	if len(a.Addresses) > 0 {
		a.Email = a.Addresses[0].Value
	} else {
		a.Email = u.UserName
	}
	if u.Enterprise != nil {
		a.EmployeeID = u.Enterprise.EmployeeNumber
	}
	for _, g := range u.Groups {
		if n := firstOf(g.Display, g.Value); n != "" {
			a.Groups = append(a.Groups, n)
		}
	}
	a.Role = c.roleOf(u)
	return a, nil
}

// roleOf reads the role from the attribute role_attribute names.
func (c *Collector) roleOf(u *user) string {
	switch c.role.kind {
	case "roles":
		return c.pick(u.Roles, false)
	case "entitlements":
		return c.pick(u.Entitlements, false)
	case "groups":
		return c.pick(u.Groups, true)
	}
	v := u.raw[c.role.attr]
	if c.role.ext != "" {
		ext, _ := lookupFold(u.raw, c.role.ext).(map[string]any)
		v = lookupFold(ext, c.role.attr)
	}
	if c.role.sub != "" {
		m, _ := v.(map[string]any)
		v = lookupFold(m, c.role.sub)
	}
	return c.canonical(scalar(v))
}

// pick chooses the role among the values of a multi-valued attribute:
// the primary value; else, among values on the ladder, the highest (an
// excess of privilege must show); else the first. groupsOnly keeps only
// ladder values: a user's other groups are no role.
func (c *Collector) pick(vals []multiValue, groupsOnly bool) string {
	name := func(v multiValue) string {
		if groupsOnly {
			return firstOf(v.Display, v.Value)
		}
		return firstOf(v.Value, v.Display)
	}
	if !groupsOnly {
		for _, v := range vals {
			if v.Primary && name(v) != "" {
				return c.canonical(name(v))
			}
		}
	}
	best, rank := "", -1
	for _, v := range vals {
		if r := c.rank(name(v)); r > rank {
			best, rank = c.canonical(name(v)), r
		}
	}
	if best != "" || groupsOnly {
		return best
	}
	for _, v := range vals {
		if n := name(v); n != "" {
			return n
		}
	}
	return ""
}

// rank is a role's place on the ladder, -1 when it is not on it.
func (c *Collector) rank(role string) int {
	for i, r := range c.cfg.Roles {
		if strings.EqualFold(r, strings.TrimSpace(role)) {
			return i
		}
	}
	return -1
}

// canonical spells a ladder role as the configuration does (the server's
// "admin" is the ladder's "Admin"); other text stays verbatim.
func (c *Collector) canonical(role string) string {
	if i := c.rank(role); i >= 0 {
		return c.cfg.Roles[i]
	}
	return strings.TrimSpace(role)
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		return firstOf(scalar(x["value"]), scalar(x["display"]))
	case []any:
		if len(x) > 0 {
			return scalar(x[0])
		}
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// lookupFold finds a key without case: RFC 7643 §2.1 makes attribute
// names case-insensitive.
func lookupFold(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
