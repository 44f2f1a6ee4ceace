package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/graph"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/store"
)

// errStore is what a reader sees when the store fails: its own errors
// name its file and its SQL, which are the operator's business, and the
// log has them.
var errStore = errors.New("the store could not be read; the service log has the details")

// lookup turns an error of reading snapshot id (0: the latest) into a
// status and a message fit for a page or an API answer: the store's
// ErrNoSnapshot names the store's path, which is no reader's business.
func (s *Server) lookup(err error, id int64) (int, error) {
	if errors.Is(err, store.ErrNoSnapshot) {
		if id == 0 {
			return http.StatusNotFound, errors.New("there is no snapshot yet: the first run has not finished")
		}
		return http.StatusNotFound, fmt.Errorf("there is no snapshot %d (the snapshot list shows the ones kept)", id)
	}
	s.log.Error("reading the store", "snapshot", id, "error", err)
	return http.StatusInternalServerError, errStore
}

// snapshotQuery reads the snapshot id in query parameter name (0 when
// absent: the latest).
func snapshotQuery(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, fmt.Errorf("%s must be a snapshot id (a number from the snapshot list), not %q", name, v)
	}
	return id, nil
}

// named is one line of a drift list: who it is about (the person's name,
// the address, the account) and where that person's page is.
type named struct {
	Who      report.Who
	Person   string // person id; "" when the snapshot links the account to nobody
	Snapshot int64  // the snapshot whose person page shows them
	Finding  *diff.Finding
	Change   *diff.Change
	Ref      *diff.AccountRef
}

// side is what one snapshot says about who is who.
type side struct {
	id      int64
	data    *report.Data      // the people, for report.Data.WhoOf
	persons map[string]string // account key -> person id
}

func (s *Server) side(ctx context.Context, id int64) (*side, error) {
	people, err := s.o.Store.People(ctx, id)
	if err != nil {
		return nil, err
	}
	ids, err := s.o.Store.PersonIDs(ctx, id)
	if err != nil {
		return nil, err
	}
	return &side{id: id, data: &report.Data{People: people}, persons: ids}, nil
}

func (sd *side) finding(f diff.Finding) named {
	return named{Who: sd.data.WhoOf(f), Person: f.Person, Snapshot: sd.id, Finding: &f}
}

// account names an account as report.Data.ChangeWho does (the person's
// name, the account's address and key), from the person ids alone.
func (sd *side) account(key, email string) named {
	w := report.Who{Email: email, Account: key}
	pid := sd.persons[key]
	if p, ok := sd.data.People[pid]; ok {
		w.Name = p.DisplayName
	}
	return named{Who: w, Person: pid, Snapshot: sd.id}
}

// driftView is the drift page: every list names the person and the
// account, from the snapshot that holds them (a resolved finding or a
// removed account from the earlier one).
type driftView struct {
	From, To                         int64
	Appeared, Escalated, Resolved    []named
	RoleChanges, StatusChanges       []named
	AccountsCreated, AccountsRemoved []named
	Total                            int // every line of every list
}

func (s *Server) driftView(ctx context.Context, d *diff.Drift) (*driftView, error) {
	from, err := s.side(ctx, d.From)
	if err != nil {
		return nil, err
	}
	to, err := s.side(ctx, d.To)
	if err != nil {
		return nil, err
	}
	v := &driftView{From: d.From, To: d.To}
	for _, f := range d.Appeared {
		v.Appeared = append(v.Appeared, to.finding(f))
	}
	for _, f := range d.Escalated {
		v.Escalated = append(v.Escalated, to.finding(f))
	}
	for _, f := range d.Resolved {
		v.Resolved = append(v.Resolved, from.finding(f))
	}
	for _, c := range d.RoleChanges {
		n := to.account(c.Account, c.Email)
		n.Change = &c
		v.RoleChanges = append(v.RoleChanges, n)
	}
	for _, c := range d.StatusChanges {
		n := to.account(c.Account, c.Email)
		n.Change = &c
		v.StatusChanges = append(v.StatusChanges, n)
	}
	for _, a := range d.AccountsCreated {
		n := to.account(a.Account, a.Email)
		n.Ref = &a
		v.AccountsCreated = append(v.AccountsCreated, n)
	}
	for _, a := range d.AccountsRemoved {
		n := from.account(a.Account, a.Email)
		n.Ref = &a
		v.AccountsRemoved = append(v.AccountsRemoved, n)
	}
	v.Total = len(d.Appeared) + len(d.Escalated) + len(d.Resolved) + len(d.RoleChanges) + len(d.StatusChanges) +
		len(d.AccountsCreated) + len(d.AccountsRemoved)
	return v, nil
}

// PeopleByEmail returns the people of snapshot id whose accounts carry
// addr in any address field a source reported, compared as correlation
// compares addresses (norm; nil: case, spaces and Unicode form only),
// each with their accounts and findings, ordered by address. The CLI's
// `people --email` and the UI's search answer alike with it.
func PeopleByEmail(ctx context.Context, st *store.Store, id int64, norm *graph.Normalizer, addr string) ([]Person, error) {
	if norm == nil {
		var err error
		if norm, err = graph.NewNormalizer(nil, false); err != nil {
			return nil, err
		}
	}
	key := func(a string) string {
		if k, err := norm.Normalize(a); err == nil {
			return k
		}
		return strings.ToLower(strings.TrimSpace(a))
	}
	want := key(addr)
	if want == "" {
		return nil, errors.New("an address is needed")
	}
	people, err := st.People(ctx, id)
	if err != nil {
		return nil, err
	}
	accs, err := st.Accounts(ctx, id)
	if err != nil {
		return nil, err
	}
	match := map[string]bool{}
	for pid, p := range people {
		if p.Email != "" && key(p.Email) == want {
			match[pid] = true
		}
	}
	for _, a := range accs {
		if match[a.Person] {
			continue
		}
		if a.Email != "" && key(a.Email) == want || slices.ContainsFunc(a.Addresses, func(x collectors.Address) bool { return x.Value != "" && key(x.Value) == want }) {
			match[a.Person] = true
		}
	}
	out := map[string]*Person{}
	for pid := range match {
		if p, ok := people[pid]; ok {
			out[pid] = &Person{Snapshot: id, Person: p, Accounts: []store.LinkedAccount{}, Findings: []diff.Finding{}}
		}
	}
	if len(out) == 0 {
		return []Person{}, nil
	}
	for _, a := range accs {
		if p := out[a.Person]; p != nil {
			p.Accounts = append(p.Accounts, a)
		}
	}
	fs, err := st.Findings(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if p := out[f.Person]; p != nil {
			p.Findings = append(p.Findings, f)
		}
	}
	list := make([]Person, 0, len(out))
	for _, p := range out {
		list = append(list, *p)
	}
	slices.SortFunc(list, func(a, b Person) int {
		if c := strings.Compare(strings.ToLower(a.Person.Email), strings.ToLower(b.Person.Email)); c != 0 {
			return c
		}
		return strings.Compare(a.Person.ID, b.Person.ID)
	})
	return list, nil
}

// pagePeople is the search by address: /people?email=… (&snapshot=ID).
func (s *Server) pagePeople(w http.ResponseWriter, r *http.Request) {
	id, err := snapshotQuery(r, "snapshot")
	if err != nil {
		s.pageError(w, r, http.StatusBadRequest, err)
		return
	}
	email := strings.TrimSpace(r.URL.Query().Get("email"))
	sum, err := s.o.Store.Get(r.Context(), id)
	if err != nil {
		status, msg := s.lookup(err, id)
		s.pageError(w, r, status, msg)
		return
	}
	data := map[string]any{"Email": email, "Snapshot": sum}
	if email != "" {
		found, err := PeopleByEmail(r.Context(), s.o.Store, sum.ID, s.o.Normalizer, email)
		if err != nil {
			s.log.Error("looking people up by address", "snapshot", sum.ID, "error", err)
			s.pageError(w, r, http.StatusInternalServerError, errStore)
			return
		}
		data["Found"] = found
	}
	s.render(w, r, "people", data)
}

// apiPeople is GET /api/v1/people?email=… (&snapshot=ID): the people whose
// accounts carry the address, in the shape of GET /api/v1/people/{id}; an
// empty array when nobody does.
func (s *Server) apiPeople(w http.ResponseWriter, r *http.Request) {
	id, err := snapshotQuery(r, "snapshot")
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	email := strings.TrimSpace(r.URL.Query().Get("email"))
	if email == "" {
		fail(w, http.StatusBadRequest, errors.New("name the address to look up: ?email=ADDRESS"))
		return
	}
	sum, err := s.o.Store.Get(r.Context(), id)
	if err != nil {
		status, msg := s.lookup(err, id)
		fail(w, status, msg)
		return
	}
	found, err := PeopleByEmail(r.Context(), s.o.Store, sum.ID, s.o.Normalizer, email)
	if err != nil {
		s.log.Error("looking people up by address", "snapshot", sum.ID, "error", err)
		fail(w, http.StatusInternalServerError, errStore)
		return
	}
	w.Header().Set("X-Idgraph-Snapshot", strconv.FormatInt(sum.ID, 10))
	writeJSON(w, http.StatusOK, found)
}
