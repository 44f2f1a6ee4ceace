// accounts.go holds the users of one read while it runs, one lean record
// each, in chunks with an index by user id; at the end they are sorted by
// index and each becomes a collectors.Account once, a chunk at a time.

package okta

import (
	"slices"
	"strings"
	"time"

	"github.com/idgraph/idgraph/collectors"
)

// chunkBits sizes a chunk: 4,096 records, under 1 MB.
const chunkBits = 12

// rec is one account while the read runs: what Okta said of the user,
// about 200 bytes against a collectors.Account's 350, which is built only
// at the end, once, in sorted order (at 100,000 users the difference is
// 15 MB of live heap, and twice that of peak).
type rec struct {
	id, status           string
	login, email, second string
	display, employee    string
	statusChanged        int64 // Unix nanoseconds; 0: none
	lastLogin            int64
	// mgrID and mgrName are the profile's managerId and manager; for an
	// account kept from the previous snapshot, mgrID is its manager's id
	// when that was resolved, else the Manager it had. manager is the
	// resolved value.
	mgrID, mgrName, manager string
	groups                  []string
	assignments             []collectors.Assignment
}

// assign returns the record's assignment of app, adding one (not in
// force) when it has none, as collectors.Account.Assign does.
func (r *rec) assign(app string) *collectors.Assignment {
	for i := range r.assignments {
		if r.assignments[i].App == app {
			return &r.assignments[i]
		}
	}
	r.assignments = append(r.assignments, collectors.Assignment{App: app})
	return &r.assignments[len(r.assignments)-1]
}

// loginOf is the user's Okta login, or their e-mail when they have none.
func (r *rec) loginOf() string {
	if r.login != "" {
		return r.login
	}
	return r.email
}

// account builds the collectors.Account of the record, for the source
// named source.
func (r *rec) account(source string) collectors.Account {
	a := collectors.Account{Source: source, ID: r.id, Email: r.email, RawStatus: r.status, Status: Status(r.status),
		EmployeeID: r.employee, DisplayName: r.display, StatusChanged: fromNanos(r.statusChanged), LastActivity: fromNanos(r.lastLogin),
		Groups: r.groups, Assignments: r.assignments, Manager: r.manager}
	n := 0
	for _, v := range []string{r.login, r.email, r.second} {
		if v != "" {
			n++
		}
	}
	if n > 0 {
		a.Addresses = make([]collectors.Address, 0, n)
		for _, f := range []struct{ field, v string }{{"login", r.login}, {"email", r.email}, {"secondEmail", r.second}} {
			if f.v != "" {
				a.Addresses = append(a.Addresses, collectors.Address{Field: f.field, Value: f.v})
			}
		}
	}
	if a.Email == "" {
		a.Email = r.login
	}
	return a
}

// fromAccount is the record of an account of the previous snapshot.
func fromAccount(a *collectors.Account) rec {
	r := rec{id: a.ID, status: rawStatus(a.RawStatus), display: a.DisplayName, employee: a.EmployeeID,
		statusChanged: nanos(a.StatusChanged), lastLogin: nanos(a.LastActivity), mgrID: a.Manager}
	for _, ad := range a.Addresses {
		switch ad.Field {
		case "login":
			r.login = ad.Value
		case "email":
			r.email = ad.Value
		case "secondEmail":
			r.second = ad.Value
		}
	}
	if r.email == r.login {
		r.email = r.login
	}
	return r
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// store holds the records in fixed chunks rather than one growing slice: at
// 100,000 accounts a slice's growth keeps its old and new arrays alive
// together (23 MB and 46 MB), which set the garbage collector's goal, and
// so the peak memory, at twice that. idx finds an account by user id.
type store struct {
	chunks [][]rec
	n      int
	idx    map[string]int
}

func newStore() *store { return &store{idx: map[string]int{}} }

func (s *store) len() int { return s.n }

func (s *store) at(i int) *rec { return &s.chunks[i>>chunkBits][i&(1<<chunkBits-1)] }

// put adds the account, or replaces the one of the same id.
func (s *store) put(r rec) {
	if k, ok := s.idx[r.id]; ok {
		*s.at(k) = r
		return
	}
	if s.n>>chunkBits == len(s.chunks) {
		s.chunks = append(s.chunks, make([]rec, 0, 1<<chunkBits))
	}
	c := &s.chunks[len(s.chunks)-1]
	*c = append(*c, r)
	s.idx[r.id] = s.n
	s.n++
}

// find returns the account of user id, or nil.
func (s *store) find(id string) *rec {
	if k, ok := s.idx[id]; ok {
		return s.at(k)
	}
	return nil
}

// sorted returns the accounts, for the source named source, sorted by
// id. It sorts their indexes, moves each record once to its place, and then
// builds the accounts chunk by chunk, letting each chunk of records go as
// soon as its accounts exist: the records and the accounts made of them
// (20 MB and 34 MB at 100,000 users) are never both whole. The store is
// empty afterwards.
func (s *store) sorted(source string) []collectors.Account {
	order := make([]int32, s.n)
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(s.at(int(a)).id, s.at(int(b)).id) })
	s.idx = nil // the index no longer says where a record is
	s.permute(order)
	out := make([]collectors.Account, s.n)
	for c, chunk := range s.chunks {
		base := c << chunkBits
		for j := range chunk {
			out[base+j] = chunk[j].account(source)
		}
		s.chunks[c] = nil
	}
	s.chunks, s.n, s.idx = nil, 0, map[string]int{}
	return out
}

// permute puts at each position i the record that was at order[i],
// following each cycle of the permutation so that every record moves once
// and no second set of records is made. It spends order.
func (s *store) permute(order []int32) {
	for i := range order {
		if order[i] < 0 || int(order[i]) == i {
			continue
		}
		held := *s.at(i)
		j := i
		for {
			k := int(order[j])
			order[j] = -1
			if k == i {
				*s.at(j) = held
				break
			}
			*s.at(j) = *s.at(k)
			j = k
		}
	}
}
