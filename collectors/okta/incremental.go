// incremental.go holds what an incremental read keeps between runs and
// how it starts from the previous snapshot.

package okta

import (
	"encoding/json"
	"strings"
	"time"
)

// skew is how far back an incremental read reaches before the previous
// read began, against clock differences and in-flight changes.
const skew = 5 * time.Minute

// state is what the collector keeps between runs.
type state struct {
	UsersSince  string            `json:"users_since"`      // RFC 3339: read users changed after this
	Groups      map[string]string `json:"groups,omitempty"` // group id -> lastMembershipUpdated seen
	Incremental int               `json:"incremental"`      // incremental reads since the last full one
}

// Incremental tells the pipeline to hand over the previous snapshot.
func (c *Collector) Incremental() bool { return c.cfg.Incremental == nil || *c.cfg.Incremental }

// loadPrevious prepares an incremental read from the last complete
// snapshot's accounts and state, if the request allows one.
func (r *read) loadPrevious() {
	p := r.req.Previous
	if p == nil || p.State == "" || r.req.Full || !r.c.Incremental() {
		return
	}
	var st state
	if err := json.Unmarshal([]byte(p.State), &st); err != nil || st.UsersSince == "" {
		return
	}
	every := r.c.cfg.FullEvery
	if every == 0 {
		every = 7
	}
	if every > 0 && st.Incremental >= every {
		r.req.Log().Info("periodic full read of Okta users", "after_incremental_reads", st.Incremental)
		return
	}
	r.prev = &st
	r.prevMem = map[string][]string{}
	// A previous account's Manager is its manager's login when it was
	// resolved: turn it back into the manager's id, so that the manager is
	// found again if their login changed since.
	ids := make(map[string]string, len(p.Accounts))
	for i := range p.Accounts {
		if l := accountLogin(&p.Accounts[i]); l != "" {
			ids[strings.ToLower(l)] = p.Accounts[i].ID
		}
	}
	for i := range p.Accounts {
		a := &p.Accounts[i]
		for _, g := range a.Groups {
			r.prevMem[g] = append(r.prevMem[g], a.ID)
		}
		u := fromAccount(a)
		if id, ok := ids[strings.ToLower(u.mgrID)]; ok {
			u.mgrID = id
		}
		r.accs.put(u)
	}
	r.comp.Mode = "incremental"
}
