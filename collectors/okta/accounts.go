// accounts.go holds the accounts of one read while it runs: in chunks
// with an index by user id, sorted by index and copied once at the end.

package okta

import (
	"slices"
	"strings"

	"github.com/idgraph/idgraph/collectors"
)

// chunkBits sizes a chunk: 4,096 accounts, about 1.5 MB.
const chunkBits = 12

// rec is one account and its manager as the profile names it (resolved
// once every list is read).
type rec struct {
	a   collectors.Account
	mgr string
}

// store holds accounts in fixed chunks rather than one growing slice: at
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
	if k, ok := s.idx[r.a.ID]; ok {
		*s.at(k) = r
		return
	}
	if s.n>>chunkBits == len(s.chunks) {
		s.chunks = append(s.chunks, make([]rec, 0, 1<<chunkBits))
	}
	c := &s.chunks[len(s.chunks)-1]
	*c = append(*c, r)
	s.idx[r.a.ID] = s.n
	s.n++
}

// find returns the account of user id, or nil.
func (s *store) find(id string) *rec {
	if k, ok := s.idx[id]; ok {
		return s.at(k)
	}
	return nil
}

// sorted returns the accounts sorted by id: it sorts their indexes and
// copies each account once, chunk by chunk, dropping each chunk when it
// has been copied from entirely. The store is empty afterwards.
func (s *store) sorted() []collectors.Account {
	order := make([]int32, s.n)
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(s.at(int(a)).a.ID, s.at(int(b)).a.ID) })
	out := make([]collectors.Account, s.n)
	for i, k := range order {
		out[i] = s.at(int(k)).a
	}
	s.chunks, s.n, s.idx = nil, 0, map[string]int{}
	return out
}
