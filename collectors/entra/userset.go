// userset.go holds the users of one read in one slice, in the order read,
// with an index by id: the accounts returned are that slice, sorted in
// place, not a copy of separately allocated accounts. Sized from the
// previous snapshot (a delta run, a full read after one) it is allocated
// once; without a size it doubles, which at its last growth holds about
// what the copy did.

package entra

import (
	"slices"
	"strings"

	"github.com/idgraph/idgraph/collectors"
)

type userSet struct {
	list  []collectors.Account
	index map[string]int // id -> position in list
	gone  int            // positions whose account was removed (ID "")
}

// newUserSet makes a set sized for about n users.
func newUserSet(n int) *userSet {
	return &userSet{list: make([]collectors.Account, 0, n), index: make(map[string]int, n)}
}

func (s *userSet) len() int { return len(s.index) }

// get returns the account of user id, or nil. The pointer is valid until
// the next put.
func (s *userSet) get(id string) *collectors.Account {
	if i, ok := s.index[id]; ok {
		return &s.list[i]
	}
	return nil
}

// put adds or replaces the account a.ID.
func (s *userSet) put(a collectors.Account) {
	if i, ok := s.index[a.ID]; ok {
		s.list[i] = a
		return
	}
	if len(s.list) == cap(s.list) {
		// Double, rather than append's quarter once large: each growth
		// copies every account read so far.
		grown := make([]collectors.Account, len(s.list), max(1024, 2*cap(s.list)))
		copy(grown, s.list)
		s.list = grown
	}
	s.index[a.ID] = len(s.list)
	s.list = append(s.list, a)
}

func (s *userSet) remove(id string) {
	if i, ok := s.index[id]; ok {
		delete(s.index, id)
		s.list[i] = collectors.Account{}
		s.gone++
	}
}

// each calls f with every account, in no particular order.
func (s *userSet) each(f func(*collectors.Account)) {
	for i := range s.list {
		if s.list[i].ID != "" {
			f(&s.list[i])
		}
	}
}

// sorted returns the accounts by id, in the set's own slice; the set is
// not to be used afterwards.
func (s *userSet) sorted() []collectors.Account {
	out := s.list
	if s.gone > 0 {
		out = slices.DeleteFunc(out, func(a collectors.Account) bool { return a.ID == "" })
	}
	slices.SortFunc(out, func(a, b collectors.Account) int { return strings.Compare(a.ID, b.ID) })
	s.list, s.index = nil, nil
	return out
}
