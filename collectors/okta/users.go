// users.go reads the user lists, lean: a page of users is decoded into
// oktaUser, which holds only the profile attributes idgraph reads, not the
// SDK's User with its map[string]any profile; and it resolves each
// account's manager.

package okta

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"time"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/idgraph/idgraph/collectors"
)

// oktaUser is what idgraph reads of a listed Okta user (the User object
// of Okta's management API spec; the profile attributes are those of the
// base user profile schema).
type oktaUser struct {
	ID            string    `json:"id"`
	Status        string    `json:"status"`
	StatusChanged time.Time `json:"statusChanged"` // null stays zero
	LastLogin     time.Time `json:"lastLogin"`
	Profile       struct {
		Login          pstr `json:"login"`
		Email          pstr `json:"email"`
		SecondEmail    pstr `json:"secondEmail"`
		FirstName      pstr `json:"firstName"`
		LastName       pstr `json:"lastName"`
		DisplayName    pstr `json:"displayName"`
		EmployeeNumber pstr `json:"employeeNumber"`
		// Okta's base user profile (Users API, "Default profile
		// properties"; the base attributes of the schema at GET
		// /api/v1/meta/schemas/user/default) has managerId, the "id of a
		// user's manager", and manager, the "displayName of the user's
		// manager": plain strings that Okta does not check, so an HR
		// import may put a login, an e-mail or an employee number there.
		// resolveManagers makes either the manager's login when it names
		// a user of this read.
		ManagerID pstr `json:"managerId"`
		Manager   pstr `json:"manager"`
	} `json:"profile"`
}

// pstr is a profile attribute read as a trimmed string. Any other JSON
// value (null, or a number where an org's schema was changed) reads as ""
// rather than failing the page, as the SDK's map profile did.
type pstr string

func (p *pstr) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' {
		*p = ""
		return nil
	}
	if bytes.IndexByte(b, '\\') < 0 {
		*p = pstr(strings.TrimSpace(string(b[1 : len(b)-1])))
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*p = pstr(strings.TrimSpace(s))
	return nil
}

func (r *read) listUsers(ctx context.Context, cl *sdk.Client, filter, stage string) error {
	q := url.Values{"limit": {itoa(usersPage)}}
	if filter != "" {
		q.Set("filter", filter)
	}
	return list(ctx, r, cl, "/api/v1/users?"+q.Encode(), listing{endpoint: "/api/v1/users", stage: stage}, r.addUsers)
}

func (r *read) addUsers(users []oktaUser) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range users {
		if users[i].ID == "" {
			continue
		}
		// A user read again (an incremental read over the previous
		// snapshot, or a user whose status changed between two lists): the
		// later read wins.
		r.accs.put(toRec(&users[i]))
	}
}

func toRec(u *oktaUser) rec {
	p := &u.Profile
	r := rec{id: u.ID, status: rawStatus(u.Status), login: string(p.Login), email: string(p.Email), second: string(p.SecondEmail),
		display: string(p.DisplayName), employee: string(p.EmployeeNumber),
		statusChanged: nanos(u.StatusChanged), lastLogin: nanos(u.LastLogin), mgrID: string(p.ManagerID), mgrName: string(p.Manager)}
	if r.email == r.login {
		r.email = r.login // one string, not two copies of it
	}
	if r.display == "" {
		r.display = strings.TrimSpace(string(p.FirstName) + " " + string(p.LastName))
	}
	return r
}

// rawStatus returns Okta's status word as a constant when it is one of
// Okta's, so that 100,000 accounts share a handful of strings.
func rawStatus(s string) string {
	for _, k := range []string{"ACTIVE", "DEPROVISIONED", "SUSPENDED", "STAGED", "PROVISIONED", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY"} {
		if s == k {
			return k
		}
	}
	return s
}

// Status maps Okta's user status onto idgraph's (docs/RULES.md). An unknown
// status counts as not yet active: never as a leaver, which would raise a
// false "orphaned" alarm.
func Status(s string) collectors.Status {
	switch s {
	case "ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY":
		return collectors.StatusActive
	case "SUSPENDED", "DEPROVISIONED":
		return collectors.StatusInactive
	}
	return collectors.StatusStaged
}

// resolveManagers sets each account's Manager to its manager's login when
// the profile's managerId, or else its manager, names another user of
// this read: by id, by login (case aside), or by employee number (an HR
// import often writes that); otherwise to the value as Okta holds it,
// managerId first. Accounts kept from the previous snapshot carry their
// manager's id (loadPrevious), so a manager whose login changed is named
// by the new login.
func (r *read) resolveManagers() {
	// The maps are made on the first reference that needs them: most
	// references are ids.
	var byLogin, byEmployee map[string]int
	find := func(ref string) (int, bool) {
		if k, ok := r.accs.idx[ref]; ok {
			return k, true
		}
		if byLogin == nil {
			byLogin = make(map[string]int, r.accs.len())
			for j := range r.accs.len() {
				if l := r.accs.at(j).loginOf(); l != "" {
					byLogin[strings.ToLower(l)] = j
				}
			}
		}
		if k, ok := byLogin[strings.ToLower(ref)]; ok {
			return k, true
		}
		if byEmployee == nil {
			byEmployee = map[string]int{}
			for j := range r.accs.len() {
				if e := r.accs.at(j).employee; e != "" {
					byEmployee[e] = j
				}
			}
		}
		k, ok := byEmployee[ref]
		return k, ok
	}
	for i := range r.accs.len() {
		u := r.accs.at(i)
		u.manager = u.mgrID
		if u.manager == "" {
			u.manager = u.mgrName
		}
		for _, ref := range []string{u.mgrID, u.mgrName} {
			if ref == "" {
				continue
			}
			if k, ok := find(ref); ok && k != i {
				if l := r.accs.at(k).loginOf(); l != "" {
					u.manager = l
					break
				}
			}
		}
	}
}

// accountLogin is an account's Okta login, or its e-mail when it has none.
func accountLogin(a *collectors.Account) string {
	for _, ad := range a.Addresses {
		if ad.Field == "login" {
			return ad.Value
		}
	}
	return a.Email
}
