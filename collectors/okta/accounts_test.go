package okta

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/idgraph/idgraph/collectors"
)

// TestStoreSorted: whatever order the records came in, and across chunk
// boundaries, sorted hands back every account once, by id, each built from
// its own record (the later of two with one id), and empties the store.
func TestStoreSorted(t *testing.T) {
	for _, tc := range []struct {
		name  string
		n     int
		order func(ids []string) // the order the records are put in
	}{
		{"empty", 0, func([]string) {}},
		{"one", 1, func([]string) {}},
		{"already sorted, two chunks and a bit", 2<<chunkBits + 5, func([]string) {}},
		{"reversed, one chunk and a bit", 1<<chunkBits + 1, func(ids []string) { slices.Reverse(ids) }},
		{"shuffled, three chunks", 3 << chunkBits, func(ids []string) {
			rand.New(rand.NewPCG(1, 2)).Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids := make([]string, tc.n)
			for i := range ids {
				ids[i] = fmt.Sprintf("00u%07d", i)
			}
			tc.order(ids)
			s := newStore()
			for _, id := range ids {
				s.put(rec{id: id, status: "ACTIVE", login: "stale-" + id})
			}
			// Read again, as a user whose status changed between two lists:
			// the later record replaces the earlier in place.
			for i, id := range ids {
				if i%3 == 0 {
					s.put(rec{id: id, status: "DEPROVISIONED", login: id + "@acme.com", groups: []string{"g" + id}})
				}
			}
			replaced := map[string]bool{}
			for i, id := range ids {
				replaced[id] = i%3 == 0
			}
			got := s.sorted("okta")
			if len(got) != tc.n {
				t.Fatalf("got %d accounts, want %d", len(got), tc.n)
			}
			for i := range got {
				a := &got[i]
				if want := fmt.Sprintf("00u%07d", i); a.ID != want {
					t.Fatalf("account %d is %s, want %s", i, a.ID, want)
				}
				login, status, groups := "stale-"+a.ID, collectors.StatusActive, []string(nil)
				if replaced[a.ID] {
					login, status, groups = a.ID+"@acme.com", collectors.StatusInactive, []string{"g" + a.ID}
				}
				if a.Source != "okta" || a.Email != login || a.Status != status || !slices.Equal(a.Groups, groups) ||
					len(a.Addresses) != 1 || a.Addresses[0] != (collectors.Address{Field: "login", Value: login}) {
					t.Fatalf("account %s was not built from its own record: %+v", a.ID, *a)
				}
			}
			if s.len() != 0 || len(s.chunks) != 0 || len(s.idx) != 0 {
				t.Errorf("the store is not empty afterwards: %d records, %d chunks", s.len(), len(s.chunks))
			}
		})
	}
}
