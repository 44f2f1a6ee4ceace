package serve

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// The sign-in throttle: failures are counted per account and per client
// address. An account is locked out at its 5th failure in a row, an
// address (which an office behind one NAT shares) at its 20th; each
// further failure doubles the lockout, from 1 minute to at most 1 hour.
// A count is forgotten 15 minutes after its last failure or lockout, and
// an account's count on its next successful sign-in. While locked out,
// credentials are not compared at all, so a correct guess is no signal.
const (
	accountLimit = 5
	addressLimit = 20
	firstLockout = time.Minute
	maxLockout   = time.Hour
	forgetAfter  = 15 * time.Minute
	// pruneAbove bounds the memory a spray of made-up account names takes:
	// above it, forgotten counts are dropped.
	pruneAbove = 10000
)

type strikes struct {
	failures int
	last     time.Time // the latest failure
	until    time.Time // locked out until
}

// throttle holds the counts in memory: a restart lifts every lockout.
type throttle struct {
	mu   sync.Mutex
	now  func() time.Time
	keys map[string]*strikes // "account alice@acme.com", "address 192.0.2.1"
}

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, keys: map[string]*strikes{}}
}

func accountEntry(a string) string { return "account " + a }
func addressEntry(a string) string { return "address " + a }

// locked returns how long the account or the address (either may be "")
// stays locked out; 0 when neither is.
func (t *throttle) locked(account, addr string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var wait time.Duration
	var keys []string
	if account != "" {
		keys = append(keys, accountEntry(account))
	}
	if addr != "" {
		keys = append(keys, addressEntry(addr))
	}
	for _, k := range keys {
		if st, ok := t.keys[k]; ok && st.until.After(now) {
			wait = max(wait, st.until.Sub(now))
		}
	}
	return wait
}

// fail counts a failure against the account or the address (one of them
// set) and returns its failures in a row and the lockout it starts (0 for
// none).
func (t *throttle) fail(account, addr string) (int, time.Duration) {
	key, limit := accountEntry(account), accountLimit
	if account == "" {
		key, limit = addressEntry(addr), addressLimit
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.keys) > pruneAbove {
		t.prune(now)
	}
	st := t.keys[key]
	if st == nil || st.forgotten(now) {
		st = &strikes{}
		t.keys[key] = st
	}
	st.failures++
	st.last = now
	if st.failures < limit {
		return st.failures, 0
	}
	d := maxLockout
	if n := st.failures - limit; n < 6 { // 1, 2, 4 … 32 minutes, then the cap
		d = min(firstLockout<<n, maxLockout)
	}
	st.until = now.Add(d)
	return st.failures, d
}

func (st *strikes) forgotten(now time.Time) bool {
	end := st.last
	if st.until.After(end) {
		end = st.until
	}
	return now.Sub(end) > forgetAfter
}

func (t *throttle) prune(now time.Time) {
	for k, st := range t.keys {
		if st.forgotten(now) {
			delete(t.keys, k)
		}
	}
}

// succeeded forgets an account's failures.
func (t *throttle) succeeded(account string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, accountEntry(account))
}

// Lockout is a count of failed sign-ins, as GET /api/v1/lockouts lists it.
type Lockout struct {
	Account     string    `json:"account,omitempty"`
	Address     string    `json:"address,omitempty"`
	Failures    int       `json:"failures"`
	LastFailure time.Time `json:"last_failure"`
	LockedUntil time.Time `json:"locked_until,omitzero"` // absent when not locked out now
}

// list returns the counts not yet forgotten, locked-out ones first.
func (t *throttle) list() []Lockout {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	out := []Lockout{}
	for k, st := range t.keys {
		if st.forgotten(now) {
			continue
		}
		l := Lockout{Failures: st.failures, LastFailure: st.last.UTC()}
		if st.until.After(now) {
			l.LockedUntil = st.until.UTC()
		}
		kind, v, _ := strings.Cut(k, " ")
		if kind == "account" {
			l.Account = v
		} else {
			l.Address = v
		}
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b Lockout) int {
		if c := b.LockedUntil.Compare(a.LockedUntil); c != 0 {
			return c
		}
		return strings.Compare(a.Account+" "+a.Address, b.Account+" "+b.Address)
	})
	return out
}

// lift forgets the failures of an account or an address and reports
// whether there were any.
func (t *throttle) lift(account, addr string) bool {
	key := accountEntry(account)
	if account == "" {
		key = addressEntry(addr)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.keys[key]
	delete(t.keys, key)
	return ok
}
