// faults.go holds what the simulator can inject (Faults) and serve, where
// every request enters: request ids, the rate-limit buckets and headers,
// concurrency limits, 429 storms and latency, then authentication and scope
// checks before route. The page faults (failing, malformed and looping
// pages, LimitTimeout) apply in paginate (routes.go).

package oktatest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Faults are failures the simulator can inject. The zero value is none.
type Faults struct {
	// RateLimit enforces this many requests per Window per endpoint family
	// (users, apps, groups), as Okta's org-wide limits do. 0: unlimited,
	// though the headers are still sent.
	RateLimit int
	Window    time.Duration // default one minute
	// Storm429 answers the next N requests with 429.
	Storm429 int
	// FailPath/FailPage make page FailPage (1-based) of requests whose path
	// starts with FailPath answer FailStatus (default 500), FailTimes times
	// (0: every time).
	FailPath   string
	FailPage   int
	FailStatus int
	FailTimes  int
	// MalformedPath/MalformedPage answer that page with broken JSON.
	MalformedPath string
	MalformedPage int
	// Slow delays every response.
	Slow time.Duration
	// Unauthorized answers every API call with 401 E0000011.
	Unauthorized bool
	// NoAdmin answers the users list with 200 [] (an API token of a user
	// without an admin role gets exactly that).
	NoAdmin bool
	// Forbidden answers paths with these prefixes with 403 E0000006.
	Forbidden []string
	// MaxConcurrent enforces Okta's concurrent rate limit: a request that
	// arrives while this many are unfinished is answered 429, and its
	// X-Rate-Limit-* headers carry the concurrency values (limit, 0
	// remaining, an estimated reset), as Okta documents in "Concurrency
	// limits" and "Rate limit best practices" (developer.okta.com/docs/
	// reference/rl2-concurrency, rl-best-practices). Okta's default for
	// Workforce orgs is 75; a free developer org has 15. 0: no limit.
	MaxConcurrent int
	// LoopPath/LoopPage make page LoopPage of lists whose path starts with
	// LoopPath carry a Link rel="next" that leads to the same page again:
	// a cursor that never advances.
	LoopPath string
	LoopPage int
	// LimitTimeout answers list requests asking for more than this many
	// items per page with 500 E0000009, as an Okta list that times out on
	// large pages does; Okta's advice is to retry with a smaller limit.
	LimitTimeout int
}

type bucket struct {
	start time.Time
	used  int
}

func family(path string) string {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 4)
	if len(parts) >= 3 {
		return "/" + strings.Join(parts[:3], "/")
	}
	return path
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Okta-Request-Id", fmt.Sprintf("sim-%d", s.reqID.Add(1)))
	s.mu.Lock()
	s.inflight++
	s.stats.MaxInFlight = max(s.stats.MaxInFlight, s.inflight)
	inflight := s.inflight
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inflight--
		s.mu.Unlock()
	}()
	if r.URL.Path == "/oauth2/v1/token" {
		s.token(w, r)
		return
	}
	s.mu.Lock()
	f := s.faults
	ix := s.idx
	fam := family(r.URL.Path)
	s.stats.Requests[r.Method+" "+endpointName(r.URL.Path)]++
	s.stats.Total++
	// Rate-limit accounting, with the headers on every response.
	limit, remaining, reset := 10000, 9999, s.now().Add(time.Minute)
	limited := false
	if f.RateLimit > 0 {
		win := f.Window
		if win <= 0 {
			win = time.Minute
		}
		b := s.buckets[fam]
		now := s.now()
		if b == nil || !now.Before(b.start.Add(win)) {
			// Windows are fixed clock intervals (a minute starts on the
			// minute), so the reset reported in whole seconds is exact.
			b = &bucket{start: now.Truncate(win)}
			s.buckets[fam] = b
		}
		b.used++
		limit, remaining, reset = f.RateLimit, max(f.RateLimit-b.used, 0), b.start.Add(win)
		limited = b.used > f.RateLimit
	}
	if s.faults.Storm429 > 0 {
		s.faults.Storm429--
		limited = true
		remaining = 0
		if f.RateLimit == 0 {
			reset = s.now().Add(time.Second)
		}
	}
	if f.MaxConcurrent > 0 && inflight > f.MaxConcurrent {
		// "Instead of the accumulated counts for time-based rate limits,
		// when a request exceeds the limit for concurrent requests,
		// X-Rate-Limit-Limit, X-Rate-Limit-Remaining, and
		// X-Rate-Limit-Reset report the concurrent values", and the reset
		// "is only an estimate" (Okta, Rate limit best practices).
		limited = true
		limit, remaining, reset = f.MaxConcurrent, 0, s.now().Add(time.Second)
	}
	if limited {
		s.stats.Status429++
	}
	s.mu.Unlock()
	h := w.Header()
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	// Okta reports the reset in whole epoch seconds; round up so that a
	// client that waits until then really is in the next window.
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt((reset.UnixNano()+int64(time.Second)-1)/int64(time.Second), 10))
	h.Set("Date", s.now().UTC().Format(http.TimeFormat))

	if f.Slow > 0 {
		select {
		case <-time.After(f.Slow):
		case <-r.Context().Done():
			return
		}
	}
	if limited {
		okErr(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
		return
	}
	c, ok := s.authorize(r, f)
	if !ok {
		if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			// Okta's resource server names the reason of a refused bearer
			// token in the challenge (RFC 6750 section 3): error="invalid_token".
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization_uri="http://%s/oauth2/v1/authorize", realm="IdpEndpoint", scope="%s", error="invalid_token", error_description="The token is not valid as it was issued by a different server or has expired.", resource="%s"`, r.Host, requiredScope(r.URL.Path), r.URL.Path))
		}
		okErr(w, http.StatusUnauthorized, "E0000011", "Invalid token provided")
		return
	}
	need := requiredScope(r.URL.Path)
	for _, p := range f.Forbidden {
		if strings.HasPrefix(r.URL.Path, p) {
			okErr(w, http.StatusForbidden, "E0000006", "You do not have permission to perform the requested action")
			return
		}
	}
	if c.scopes != nil && !slices.Contains(c.scopes, need) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization_uri="http://%s/oauth2/v1/authorize", realm="IdpEndpoint", scope="%s", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="%s"`, r.Host, need, r.URL.Path))
		okErr(w, http.StatusForbidden, "E0000006", "You do not have permission to perform the requested action")
		return
	}
	if r.Method != http.MethodGet {
		okErr(w, http.StatusMethodNotAllowed, "E0000022", "The endpoint does not support the provided HTTP method")
		return
	}
	if s.adminRoute(w, r, ix, c, f) {
		return
	}
	s.route(w, r, ix, f, c.view(ix))
}
