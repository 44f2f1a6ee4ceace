// managers.go reads each user's manager (Entra's manager relationship),
// for campaigns that route a person's review to their manager, and keeps
// it right on delta runs.
//
// What Microsoft documents, and what the collector does with it:
//   - the full read expands the relationship on the list: "user: list
//     manager" gives "GET /users?$expand=manager" for the management
//     chain of every user, and "$select inside $expand to select the
//     individual manager's properties"
//     (manager($select=id,userPrincipalName,mail)); $levels works on a
//     single user only, and only the direct manager is wanted anyway.
//   - $expand costs page size: a directory list with $expand comes in
//     pages of at most 100 whatever $top asks (Microsoft's known issue
//     13635, as answered on Tech Community), so at 100,000 users the full
//     read takes 1,000 list requests instead of 101. managers: false turns
//     the expansion off for tenants where that matters more than routing.
//   - users/delta() does not support $expand ("$expand is not supported"
//     for users and groups, delta query overview) but tracks the
//     relationship when it is selected: "$select also supports manager ...
//     Selecting those properties allows tracking of changes to user's
//     manager", reported as the annotation manager@delta, a list of
//     {"@odata.type", "id"} ("Relationships on users and groups are
//     represented as annotations ... propertyName@delta"). So the delta
//     link is asked for with manager in $select, and a tracked round says
//     which users' managers changed, by the new manager's id only.
//   - the id is resolved against the users of the same read (every user is
//     in it, merged), so a manager renamed since shows under the new name
//     at no extra request; a manager the read does not hold (an
//     organisational contact, or a user gone) keeps the address the full
//     read saw, or none, counted in a warning.
//   - a delta link made without manager in $select cannot track it: such a
//     stored link leads to one full read (state.Manager says which links
//     track it).

package entra

import (
	"fmt"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/idgraph/idgraph/collectors"
)

// managerExpand is the $expand of the full read and of single users.
const managerExpand = "manager($select=id,userPrincipalName,mail)"

// managers reports whether this tenant's managers are read (managers:
// true, the default).
func (c *Collector) managers() bool { return c.cfg.Managers == nil || *c.cfg.Managers }

// deltaFields are the properties a delta link tracks: UserFields, and the
// manager relationship when managers are read.
func (c *Collector) deltaFields() []string {
	if !c.managers() {
		return UserFields
	}
	return append(append([]string{}, UserFields...), "manager")
}

// graphRef is a directory object another one points at: an expanded
// manager, or an entry of manager@delta.
type graphRef struct {
	ID                string          `json:"id"`
	UserPrincipalName string          `json:"userPrincipalName"`
	Mail              string          `json:"mail"`
	Removed           *map[string]any `json:"@removed"`
}

// managerOf is what a read knows of users' managers until the end of the
// read, when the ids are resolved to addresses.
type managerOf struct {
	id   map[string]string // user id -> the manager's object id
	addr map[string]string // user id -> the manager's address as last seen, when the id cannot say it
}

func newManagerOf() managerOf {
	return managerOf{id: map[string]string{}, addr: map[string]string{}}
}

// set records user's manager; addr is its address when Graph gave one.
func (m managerOf) set(user, manager, addr string) {
	delete(m.id, user)
	delete(m.addr, user)
	if manager != "" {
		m.id[user] = manager
	}
	if addr != "" {
		m.addr[user] = addr
	}
}

func (m managerOf) drop(user string) { m.set(user, "", "") }

// fromExpanded records the expanded manager of a full read's user.
func (m managerOf) fromExpanded(user string, g *graphRef) {
	if g == nil {
		m.drop(user)
		return
	}
	m.set(user, strings.TrimSpace(g.ID), firstOf(g.UserPrincipalName, g.Mail))
}

// fromModel records the manager of a user read through the SDK.
func (m managerOf) fromModel(user string, u models.Userable) {
	mg := u.GetManager()
	if mg == nil {
		m.drop(user)
		return
	}
	addr := ""
	if mu, ok := mg.(models.Userable); ok {
		addr = firstOf(str(mu.GetUserPrincipalName()), str(mu.GetMail()))
	}
	m.set(user, str(mg.GetId()), addr)
}

// fromDelta applies a manager@delta annotation: the last entry not
// removed is the manager now; none means the manager was taken away.
func (m managerOf) fromDelta(user string, entries []graphRef) {
	for i := len(entries) - 1; i >= 0; i-- {
		if e := entries[i]; e.Removed == nil && strings.TrimSpace(e.ID) != "" {
			m.set(user, strings.TrimSpace(e.ID), "")
			return
		}
	}
	m.drop(user)
}

// fromPrevious recovers, before a delta round, the managers the previous
// snapshot recorded: by the manager's id when the address is one of the
// previous users' userPrincipalName, else by the address itself.
func (m managerOf) fromPrevious(prev []collectors.Account) {
	byUPN := make(map[string]string, len(prev))
	for i := range prev {
		if upn := upnOf(&prev[i]); upn != "" {
			byUPN[strings.ToLower(upn)] = prev[i].ID
		}
	}
	for i := range prev {
		a := &prev[i]
		if a.Manager == "" {
			continue
		}
		if id, ok := byUPN[strings.ToLower(a.Manager)]; ok {
			m.set(a.ID, id, "")
		} else {
			m.set(a.ID, "", a.Manager)
		}
	}
}

// resolve writes every user's manager: the userPrincipalName (or, without
// one, the primary address) of the manager user the read holds, else the
// address last seen. It returns how many managers named by id it could not
// resolve.
func (m managerOf) resolve(users *userSet) int {
	missing := 0
	users.each(func(a *collectors.Account) {
		a.Manager = m.addr[a.ID]
		if mid, ok := m.id[a.ID]; ok {
			if mg := users.get(mid); mg != nil {
				a.Manager = firstOf(upnOf(mg), mg.Email)
			} else if a.Manager == "" {
				missing++
			}
		}
	})
	return missing
}

func (r *read) resolveManagers() {
	if n := r.mgr.resolve(r.users); n > 0 {
		r.comp.Warnings = append(r.comp.Warnings, fmt.Sprintf("%d %s a manager that is not among the tenant's users read (an organisational contact, or a user deleted since); their manager is left empty until the next full read",
			n, plural(int64(n), "user has", "users have")))
	}
}

func upnOf(a *collectors.Account) string {
	for _, ad := range a.Addresses {
		if ad.Field == "userPrincipalName" {
			return ad.Value
		}
	}
	return ""
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
