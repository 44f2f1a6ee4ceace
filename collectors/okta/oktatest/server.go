// server.go holds the Server: starting it, the controls a test uses while
// it runs (SetFaults, Update), its counters (Stats) and write, which
// counts the bytes it sends.

package oktatest

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Stats counts what the simulator served.
type Stats struct {
	Requests   map[string]int // by endpoint family and kind, e.g. "GET /api/v1/users"
	Total      int
	Status429  int
	Bytes      int64 // response bodies
	MaxPerPage map[string]int
	// MaxInFlight is the most requests that were unfinished at once.
	MaxInFlight int
	// OmittedCredentials counts user-list pages served without the
	// credentials object and links (Content-Type okta-response=...).
	OmittedCredentials int
}

// Server is a running simulator.
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	sc      *Scenario
	faults  Faults
	idx     *index
	buckets map[string]*bucket
	tokens  map[string][]string // access token -> scopes
	stats   Stats
	fails   int
	reqID   atomic.Int64
	now     func() time.Time

	inflight int // requests unfinished, under mu
}

// NewServer starts a simulator serving sc on 127.0.0.1.
func NewServer(sc *Scenario) *Server {
	s := NewUnstarted(sc)
	s.Start()
	return s
}

// NewUnstarted builds a simulator without starting it (for Handler use).
func NewUnstarted(sc *Scenario) *Server {
	s := &Server{sc: sc, buckets: map[string]*bucket{}, tokens: map[string][]string{}, now: time.Now}
	s.resetStats()
	s.idx = build(sc)
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	return s
}

// Scenario returns the scenario being served.
func (s *Server) Scenario() *Scenario {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sc
}

// SetFaults replaces the active faults.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.fails = 0
	s.buckets = map[string]*bucket{}
}

// Update changes the scenario while the server runs. Like Okta, it stamps
// lastUpdated on every user it changed and lastMembershipUpdated on every
// group whose members changed.
func (s *Server) Update(f func(*Scenario)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := map[string]string{}
	for _, u := range s.sc.Users {
		u.LastUpdated = time.Time{}
		before[u.ID] = fmt.Sprintf("%v", u)
	}
	members := map[string]string{}
	for _, g := range s.sc.Groups {
		members[g.ID] = strings.Join(g.Members, ",")
	}
	f(s.sc)
	now := s.now().UTC()
	for i := range s.sc.Users {
		u := s.sc.Users[i]
		lu := u.LastUpdated
		u.LastUpdated = time.Time{}
		if before[u.ID] != fmt.Sprintf("%v", u) && !lu.After(now.Add(-time.Second)) {
			s.sc.Users[i].LastUpdated = now
		}
	}
	for i := range s.sc.Groups {
		if g := &s.sc.Groups[i]; members[g.ID] != strings.Join(g.Members, ",") {
			g.MembershipUpdated = now
		}
	}
	s.idx = build(s.sc)
}

// ChangeUsers changes the users with the given ids (Okta stamps
// lastUpdated on each) and rebuilds the index once: a benchmark that
// changes 1% of 100,000 users does not pay for 1,000 rebuilds, nor for
// Update's comparison of every user.
func (s *Server) ChangeUsers(ids []string, f func(*User)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	now := s.now().UTC()
	for i := range s.sc.Users {
		if u := &s.sc.Users[i]; want[u.ID] {
			f(u)
			u.LastUpdated = now
		}
	}
	s.idx = build(s.sc)
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.stats
	c.Requests, c.MaxPerPage = maps.Clone(s.stats.Requests), maps.Clone(s.stats.MaxPerPage)
	return c
}

// ResetStats zeroes the counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetStats()
}

func (s *Server) resetStats() {
	s.stats = Stats{Requests: map[string]int{}, MaxPerPage: map[string]int{}}
}

func (s *Server) write(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
	s.mu.Lock()
	s.stats.Bytes += int64(len(body))
	s.mu.Unlock()
}
