// Package graph correlates the accounts read from every source into people.
//
// Accounts are joined by strong keys first (links an operator recorded,
// then employee IDs), then by normalised addresses. Every join records why
// it was made. Two identities of one IdP never merge: when they claim the
// same address, or employee IDs disagree, the graph reports a conflict
// instead. The algorithm is a union-find over accounts with one hash-map
// pass per key kind, so it is linear in the number of addresses.
package graph

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/idgraph/idgraph/collectors"
)

// Options configures correlation.
type Options struct {
	Aliases   map[string]string // alias domain -> canonical domain
	StripPlus bool
	Links     [][]string // operator-recorded links: groups of account keys
	// IdPs names the IdP sources; every other source is an app source.
	IdPs map[string]bool
	// Prior maps account keys to the person IDs they had in the previous
	// snapshot. A person keeps their ID while any of their accounts did,
	// so that an IdP that failed tonight (its accounts absent) changes no
	// person's ID, no finding's key, and no review decision's subject.
	Prior map[string]string
}

// Person is one human and the accounts they own.
type Person struct {
	ID          string  `json:"id"` // stable across runs while their accounts are
	Email       string  `json:"email"`
	DisplayName string  `json:"display_name"`
	Accounts    []int32 `json:"-"` // indexes into Graph.Accounts
}

// Link ties one account to its person and says why.
type Link struct {
	Account int32  `json:"-"`
	Person  int32  `json:"-"`
	Reason  string `json:"reason"`
}

// Conflict is a correlation the graph refused to make.
type Conflict struct {
	Address  string   `json:"address,omitempty"`
	Accounts []string `json:"accounts"` // account keys
	Reason   string   `json:"reason"`
}

// Graph is the result of correlation.
type Graph struct {
	Accounts  []collectors.Account
	People    []Person
	Links     []Link // one per account, in account order
	Conflicts []Conflict
	// Unresolved holds the accounts whose addresses matched several
	// people; they are left as people of their own and must not be judged
	// as if nobody knew them.
	Unresolved map[int32]bool
	// Normalized holds each account's normalised primary address.
	Normalized []string
	// Rejected lists addresses that could not be normalised, per account.
	Rejected []Conflict
}

// PersonOf returns the person index of account i.
func (g *Graph) PersonOf(i int32) int32 { return g.Links[i].Person }

type unionFind struct {
	parent []int32
	mask   []uint64 // IdP sources present in the component (bit per source)
	emp    []string // employee ID of the component, if any
	reason []string // why each account joined
}

func (u *unionFind) find(x int32) int32 {
	for u.parent[x] != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = u.parent[x]
	}
	return x
}

// compatible reports whether two components may be one person: no IdP
// source twice, and no two different employee IDs.
func (u *unionFind) compatible(a, b int32) (bool, string) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return true, ""
	}
	if u.mask[ra]&u.mask[rb] != 0 {
		return false, "two accounts of the same identity provider"
	}
	if u.emp[ra] != "" && u.emp[rb] != "" && u.emp[ra] != u.emp[rb] {
		return false, fmt.Sprintf("different employee IDs (%s, %s)", u.emp[ra], u.emp[rb])
	}
	return true, ""
}

func (u *unionFind) union(a, b int32, why string) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	if u.reason[a] == "" {
		u.reason[a] = why
	}
	if u.reason[b] == "" {
		u.reason[b] = why
	}
	if ra > rb { // the lower index stays root: deterministic
		ra, rb = rb, ra
	}
	u.parent[rb] = ra
	u.mask[ra] |= u.mask[rb]
	if u.emp[ra] == "" {
		u.emp[ra] = u.emp[rb]
	}
}

// Correlate builds the graph. accounts should be in a deterministic order
// (the pipeline sorts them by source and key) so that results repeat.
func Correlate(accounts []collectors.Account, opt Options) (*Graph, error) {
	norm, err := NewNormalizer(opt.Aliases, opt.StripPlus)
	if err != nil {
		return nil, err
	}
	n := len(accounts)
	g := &Graph{Accounts: accounts, Unresolved: map[int32]bool{}, Normalized: make([]string, n)}
	u := &unionFind{parent: make([]int32, n), mask: make([]uint64, n), emp: make([]string, n), reason: make([]string, n)}

	bits := map[string]uint64{}
	isIdP := make([]bool, n)
	for i := range accounts {
		a := &accounts[i]
		u.parent[i] = int32(i)
		if opt.IdPs[a.Source] {
			isIdP[i] = true
			b, ok := bits[a.Source]
			if !ok {
				if len(bits) == 64 {
					return nil, fmt.Errorf("graph: more than 64 IdP sources")
				}
				b = 1 << uint(len(bits))
				bits[a.Source] = b
			}
			u.mask[i] = b
			u.emp[i] = strings.TrimSpace(a.EmployeeID)
		}
	}

	// 1. Operator-recorded links win over everything else.
	if len(opt.Links) > 0 {
		want := map[string]int32{}
		for _, l := range opt.Links {
			for _, k := range l {
				want[k] = -1
			}
		}
		for i := range accounts {
			if _, ok := want[accounts[i].Key()]; ok {
				want[accounts[i].Key()] = int32(i)
			}
		}
		for _, l := range opt.Links {
			first := int32(-1)
			for _, k := range l {
				i := want[k]
				if i < 0 {
					continue // the account is not in this run; nothing to join
				}
				if first < 0 {
					first = i
					continue
				}
				u.union(first, i, "explicit link recorded by an operator")
			}
		}
	}

	// 2. Employee IDs shared by accounts of different IdPs.
	byEmp := map[string]int32{}
	for i := range accounts {
		e := u.emp[i]
		if !isIdP[i] || e == "" {
			continue
		}
		j, ok := byEmp[e]
		if !ok {
			byEmp[e] = int32(i)
			continue
		}
		if ok, why := u.compatible(j, int32(i)); ok {
			u.union(j, int32(i), "employee ID "+e)
		} else { // keep both people apart and say so
			g.Conflicts = append(g.Conflicts, Conflict{Accounts: []string{accounts[j].Key(), accounts[i].Key()},
				Reason: "employee ID " + e + " shared by " + why})
		}
	}

	// 3. Addresses of IdP accounts.
	owner := make(map[string]int32, n*2)
	norms := normalizeAll(accounts, norm, g)
	field := func(i int32, addr string) string {
		for k, ad := range allAddresses(&accounts[i]) {
			if norms[i][k] == addr {
				return accounts[i].Source + " " + ad.Field
			}
		}
		return accounts[i].Source + " email"
	}
	conflicted := map[string]bool{}
	badAddr := map[string]bool{} // addresses two people claim: they link nothing
	forEachAddress(norms, func(i int32, addr string) {
		if !isIdP[i] {
			return
		}
		j, ok := owner[addr]
		if !ok {
			owner[addr] = i
			return
		}
		if u.find(i) == u.find(j) {
			return
		}
		ok, why := u.compatible(j, i)
		if ok {
			u.union(j, i, fmt.Sprintf("address %s (%s = %s)", addr, field(j, addr), field(i, addr)))
			return
		}
		badAddr[addr] = true
		key := addr + "\x00" + accounts[i].Key()
		if !conflicted[key] {
			conflicted[key] = true
			g.Conflicts = append(g.Conflicts, Conflict{Address: addr,
				Accounts: []string{accounts[j].Key(), accounts[i].Key()},
				Reason:   "address claimed by " + why})
		}
	})

	// 4. App accounts join the person whose IdP accounts claim their
	// addresses, or each other when no IdP knows them.
	appOwner := map[string]int32{}
	for i := range accounts {
		if isIdP[i] {
			continue
		}
		a := &accounts[i]
		var roots []int32
		var via []string
		ambiguous := false
		seen := map[string]bool{}
		for k, ad := range allAddresses(a) {
			v := norms[i][k]
			if v == "" || seen[v] {
				continue
			}
			seen[v] = true
			if badAddr[v] {
				ambiguous = true
				continue
			}
			if j, ok := owner[v]; ok {
				r := u.find(j)
				dup := false
				for _, x := range roots {
					dup = dup || x == r
				}
				if !dup {
					roots = append(roots, r)
					via = append(via, fmt.Sprintf("address %s (%s %s = %s)", v, a.Source, ad.Field, field(j, v)))
				}
			}
		}
		switch {
		case g.Normalized[i] == "" && len(roots) == 0:
			// No address of the account could be read ("Bob <bob@acme.com>"):
			// nobody can say whose it is, so it is reported, never judged as
			// if no IdP knew it.
			g.Unresolved[int32(i)] = true
			g.Conflicts = append(g.Conflicts, Conflict{Address: a.Email, Accounts: []string{a.Key()},
				Reason: "no address of the account could be read; left unlinked"})
		case ambiguous || len(roots) > 1:
			g.Unresolved[int32(i)] = true
			keys := []string{a.Key()}
			for _, r := range roots {
				keys = append(keys, accounts[r].Key())
			}
			g.Conflicts = append(g.Conflicts, Conflict{Address: g.Normalized[i], Accounts: keys,
				Reason: "account's addresses match several people; left unlinked"})
		case len(roots) == 0:
			k := g.Normalized[i]
			if k == "" {
				continue
			}
			if j, ok := appOwner[k]; ok {
				u.union(j, int32(i), "address "+k+" (same address in "+a.Source+", no IdP knows it)")
			} else {
				appOwner[k] = int32(i)
			}
		default:
			u.union(roots[0], int32(i), via[0])
		}
	}

	// 5. People, in order of their first account.
	g.Links = make([]Link, n)
	personOfRoot := make(map[int32]int32, n/2)
	for i := range accounts {
		r := u.find(int32(i))
		p, ok := personOfRoot[r]
		if !ok {
			p = int32(len(g.People))
			personOfRoot[r] = p
			g.People = append(g.People, Person{})
		}
		g.People[p].Accounts = append(g.People[p].Accounts, int32(i))
		why := u.reason[i]
		if why == "" {
			why = "only account of this person"
		}
		g.Links[i] = Link{Account: int32(i), Person: p, Reason: why}
	}
	for p := range g.People {
		describe(&g.People[p], g, isIdP)
	}
	assignIDs(g, opt.Prior)
	return g, nil
}

// assignIDs makes person IDs stable and unique. A person takes the ID
// that their accounts had in the previous snapshot (the smallest, when
// they had several), unless another person of this run already holds it;
// otherwise the ID describe derived. An ID still taken gets the person's
// first account key appended: two people never share an ID, whatever the
// input (two unlinked accounts with one unreadable address, say).
func assignIDs(g *Graph, prior map[string]string) {
	taken := make(map[string]bool, len(g.People))
	// First pass: people whose derived ID is also a prior one of theirs,
	// or who have no prior ID, claim the derived ID; so a split hands the
	// old ID to the part that still derives it.
	wanted := make([]string, len(g.People)) // prior ID still to place
	var later []int
	for p := range g.People {
		per := &g.People[p]
		best, own := "", false
		for _, i := range per.Accounts {
			if id, ok := prior[g.Accounts[i].Key()]; ok {
				own = own || id == per.ID
				if best == "" || id < best {
					best = id
				}
			}
		}
		if (best == "" || own) && !taken[per.ID] {
			taken[per.ID] = true
			continue
		}
		if !own {
			wanted[p] = best
		}
		later = append(later, p)
	}
	for _, p := range later {
		per := &g.People[p]
		for _, id := range []string{wanted[p], per.ID} {
			if id != "" && !taken[id] {
				per.ID = id
				break
			}
		}
		if taken[per.ID] {
			base := per.ID + "#" + g.Accounts[per.Accounts[0]].Key()
			id := base
			for n := 2; taken[id]; n++ {
				id = fmt.Sprintf("%s#%d", base, n)
			}
			per.ID = id
		}
		taken[per.ID] = true
	}
}

// describe sets a person's stable ID, e-mail and name. The ID is the
// smallest IdP account key, or else the normalised address of their app
// accounts, so that findings keep their identity between runs.
func describe(p *Person, g *Graph, isIdP []bool) {
	best, bestIdP := "", false
	for _, i := range p.Accounts {
		a := &g.Accounts[i]
		if isIdP[i] {
			k := a.Key()
			if !bestIdP || k < best {
				best, bestIdP = k, true
				p.Email = g.Normalized[i]
				p.DisplayName = a.DisplayName
			}
		} else if !bestIdP {
			k := "address:" + g.Normalized[i]
			if best == "" || k < best {
				best = k
				p.Email = g.Normalized[i]
				p.DisplayName = a.DisplayName
			}
		}
	}
	if p.Email == "" && len(p.Accounts) > 0 {
		p.Email = g.Accounts[p.Accounts[0]].Email
	}
	p.ID = best
}

func allAddresses(a *collectors.Account) []collectors.Address {
	if a.Email == "" {
		return a.Addresses
	}
	for _, ad := range a.Addresses {
		if ad.Value == a.Email {
			return a.Addresses
		}
	}
	return append([]collectors.Address{{Field: "email", Value: a.Email}}, a.Addresses...)
}

// normalizeAll normalises every address of every account once ("" where
// an address is rejected), records each account's primary address and
// collects the rejected ones.
func normalizeAll(accounts []collectors.Account, norm *Normalizer, g *Graph) [][]string {
	out := make([][]string, len(accounts))
	domains := map[string]string{}
	for i := range accounts {
		a := &accounts[i]
		addrs := allAddresses(a)
		vs := make([]string, len(addrs))
		for k, ad := range addrs {
			v, err := norm.normalize(ad.Value, domains)
			if err != nil {
				if ad.Field == "proxyAddresses" && errors.Is(err, ErrOtherType) {
					continue // SIP:, X500: and the like are not mail addresses
				}
				g.Rejected = append(g.Rejected, Conflict{Address: ad.Value, Accounts: []string{a.Key()}, Reason: err.Error()})
				continue
			}
			vs[k] = v
			if g.Normalized[i] == "" && (ad.Value == a.Email || a.Email == "") {
				g.Normalized[i] = v
			}
		}
		if g.Normalized[i] == "" {
			for _, v := range vs {
				if v != "" {
					g.Normalized[i] = v
					break
				}
			}
		}
		out[i] = vs
	}
	return out
}

// forEachAddress calls fn once for each distinct normalised address of
// each account.
func forEachAddress(norms [][]string, fn func(i int32, addr string)) {
	for i, vs := range norms {
		for k, v := range vs {
			if v == "" {
				continue
			}
			dup := false
			for _, w := range vs[:k] {
				dup = dup || w == v
			}
			if !dup {
				fn(int32(i), v)
			}
		}
	}
}

// SortAccounts puts accounts in the canonical order correlation expects.
func SortAccounts(accounts []collectors.Account) {
	sort.SliceStable(accounts, func(i, j int) bool {
		a, b := &accounts[i], &accounts[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.Team != b.Team {
			return a.Team < b.Team
		}
		return a.ID < b.ID
	})
}
