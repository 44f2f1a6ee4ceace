// server.go holds the Server: starting it, its URLs and CA, the controls a
// test uses while it runs (SetFaults, SetVariant, ChangeUser, AddUser,
// DeleteUser, PurgeUser, RestoreUser, Update, ExpireDeltaTokens), the change
// sequence delta queries read, its counters (Stats) and send, which counts
// the bytes it sends.

package graphtest

import (
	"encoding/pem"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// Stats counts what the simulator served.
type Stats struct {
	Requests        map[string]int // by method and endpoint, e.g. "GET /v1.0/users"
	Total           int
	Unauthenticated int // Graph requests that came without a bearer token
	Tokens          int
	Bytes           map[string]int64 // response bytes by endpoint
	Selects         map[string]string
}

// Server is a running simulator.
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	sc      *Scenario
	faults  Faults
	tokens  map[string][]string // access token -> permissions
	stats   Stats
	variant Variant
	seq     int64                       // change sequence
	created map[string]int64            // user id -> sequence of its creation (or restore); absent: from the start
	propVer map[string]map[string]int64 // user id -> property -> sequence of its last change
	gone    map[string]removal          // removed user id -> when and why
	// formerManager is a user's manager before its last change, for the
	// @removed entry of a manager taken away.
	formerManager map[string]string
	deleted       map[string]User // soft-deleted users, restorable
	minSeq        int64           // delta tokens older than this are expired
	pages         map[string]int  // page counter per path, for FailPage
	byID          map[string]int  // user id -> index in sc.Users
	// members memoises a group's (transitive) members by path, resolved
	// once instead of for every page; reindex clears it, since every
	// change of users or groups goes through it.
	members map[string][]string
}

// reindex rebuilds the user index; callers hold mu.
func (s *Server) reindex() {
	s.members = map[string][]string{}
	s.byID = make(map[string]int, len(s.sc.Users))
	for i := range s.sc.Users {
		s.byID[s.sc.Users[i].ID] = i
	}
}

// NewServer starts a simulator with TLS on 127.0.0.1.
func NewServer(sc *Scenario) *Server {
	s := NewUnstarted(sc)
	s.StartTLS()
	return s
}

// NewUnstarted builds a simulator without starting it.
func NewUnstarted(sc *Scenario) *Server {
	s := &Server{sc: sc, tokens: map[string][]string{}, created: map[string]int64{}, propVer: map[string]map[string]int64{},
		gone: map[string]removal{}, deleted: map[string]User{}, pages: map[string]int{}, formerManager: map[string]string{}}
	s.resetStats()
	s.reindex()
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	return s
}

// TokenURL is the token endpoint of the scenario's tenant.
func (s *Server) TokenURL() string { return s.URL + "/" + s.sc.TenantID + "/oauth2/v2.0/token" }

// GraphURL is the Graph v1.0 base URL.
func (s *Server) GraphURL() string { return s.URL + "/v1.0" }

// Scenario returns the scenario being served.
func (s *Server) Scenario() *Scenario { return s.sc }

// WriteCA writes the simulator's TLS certificate as PEM into dir and
// returns the file, for a client's ca_file.
func (s *Server) WriteCA(dir string) (string, error) {
	p := filepath.Join(dir, "graphtest-ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	return p, os.WriteFile(p, b, 0o600)
}

// SetFaults replaces the active faults.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.pages = map[string]int{}
}

// SetVariant replaces the tenant variant.
func (s *Server) SetVariant(v Variant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.variant = v
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.stats
	c.Requests, c.Bytes, c.Selects = maps.Clone(s.stats.Requests), maps.Clone(s.stats.Bytes), maps.Clone(s.stats.Selects)
	return c
}

// ResetStats zeroes the counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetStats()
}

func (s *Server) resetStats() {
	s.stats = Stats{Requests: map[string]int{}, Bytes: map[string]int64{}, Selects: map[string]string{}}
}

type removal struct {
	seq    int64
	reason string // "changed" (in deleted items) or "deleted" (permanently)
}

// ChangeUser edits a user; delta queries report the properties it changed.
func (s *Server) ChangeUser(id string, f func(*User)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[id]
	if !ok {
		panic("graphtest: no user " + id)
	}
	before := userMap(&s.sc.Users[i])
	was := s.sc.Users[i].Manager
	f(&s.sc.Users[i])
	if s.sc.Users[i].Manager != was {
		s.formerManager[id] = was
	}
	after := userMap(&s.sc.Users[i])
	s.seq++
	for k, v := range after {
		if fmt.Sprint(before[k]) != fmt.Sprint(v) {
			if s.propVer[id] == nil {
				s.propVer[id] = map[string]int64{}
			}
			s.propVer[id][k] = s.seq
		}
	}
}

// AddUser adds a user; delta queries report it in full.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sc.Users = append(s.sc.Users, u)
	s.reindex()
	s.seq++
	s.created[u.ID] = s.seq
	delete(s.gone, u.ID)
}

// DeleteUser deletes a user as Entra does: it moves to deleted items,
// restorable for 30 days; delta queries report it with
// "@removed": {"reason": "changed"}.
func (s *Server) DeleteUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.byID[id]; ok {
		s.deleted[id] = s.sc.Users[i]
	}
	s.remove(id, "changed")
}

// PurgeUser deletes a user permanently (or purges it from deleted items);
// delta queries report it with "@removed": {"reason": "deleted"}.
func (s *Server) PurgeUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.deleted, id)
	s.remove(id, "deleted")
}

// RestoreUser brings a soft-deleted user back; delta queries report it in
// full.
func (s *Server) RestoreUser(id string) {
	s.mu.Lock()
	u, ok := s.deleted[id]
	delete(s.deleted, id)
	s.mu.Unlock()
	if !ok {
		panic("graphtest: no deleted user " + id)
	}
	s.AddUser(u)
}

// remove takes a user out of the directory; callers hold mu.
func (s *Server) remove(id, reason string) {
	s.sc.Users = slices.DeleteFunc(s.sc.Users, func(u User) bool { return u.ID == id })
	s.reindex()
	s.seq++
	s.gone[id] = removal{seq: s.seq, reason: reason}
	delete(s.propVer, id)
	delete(s.created, id)
}

// Update edits the scenario's app data (assignments, groups) in place.
func (s *Server) Update(f func(*Scenario)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.sc)
	s.reindex()
}

func (s *Server) send(w http.ResponseWriter, ep string, b []byte) {
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.Write(b)
	s.mu.Lock()
	s.stats.Bytes[ep] += int64(len(b))
	s.mu.Unlock()
}

// ExpireDeltaTokens makes every delta token issued so far expired.
func (s *Server) ExpireDeltaTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	s.minSeq = s.seq
}
