// faults.go holds the switches a test flips (Faults, Variant) and serve,
// where every Graph request enters: counting, throttling (429, 503, 504
// with Retry-After), latency, authentication and permission checks before
// route; and the page faults (fail, repeat, writePage).

package graphtest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Faults are failures the simulator can inject. The zero value is none.
//
// Throttling follows Microsoft Graph's throttling guidance and error
// reference (learn.microsoft.com/graph/throttling, /graph/errors): a 429
// carries Retry-After; 503 "may" carry it, and 504 may come with 503.
// NoRetryAfter leaves the header out, after which a client is to back off
// exponentially.
type Faults struct {
	Status429      int           // the next N Graph requests answer 429 with Retry-After
	Status503      int           // the next N Graph requests answer 503 with Retry-After
	Status504      int           // the next N Graph requests answer 504 with Retry-After
	RetryAfter     int           // seconds; default 1
	NoRetryAfter   bool          // throttled answers carry no Retry-After header
	FailPath       string        // with FailPage: page FailPage (1-based) of that path prefix answers 500
	FailPage       int           //
	MalformedPath  string        // with MalformedPage: that page is cut in half
	MalformedPage  int           //
	Slow           time.Duration // every Graph response waits this long
	ExpireDelta    bool          // every delta token is expired (syncStateNotFound)
	DeltaGone      bool          // every tracked delta request answers 410 Gone, Location, no body
	DeltaErrorCode string        // every tracked delta request answers 400 with this error code (e.g. resyncRequired)
	// RepeatPath, RepeatPage: page RepeatPage (1-based) of every list under
	// that path prefix carries an @odata.nextLink back to itself, a paging
	// cycle. With RepeatFresh each repetition carries a new, different
	// token for the same page, so only its contents show the cycle.
	RepeatPath      string
	RepeatPage      int
	RepeatFresh     bool
	Unauthorized    bool     // Graph answers 401 to every request
	DropPermissions []string // tokens lack these permissions (403 on the endpoints that need them)
}

// Variant is how a tenant is set up where Entra allows several ways. The
// zero value is the cautious tenant: assignment required, app enabled.
type Variant struct {
	// AssignmentNotRequired sets the service principal's
	// appRoleAssignmentRequired to false, Entra's default for many
	// enterprise apps ("Specifies whether users ... need to be granted an
	// app role assignment ... before users can sign in ... The default value
	// is false", servicePrincipal resource type): every enabled user can
	// then sign in.
	AssignmentNotRequired bool
	// ServicePrincipalDisabled sets the service principal's accountEnabled
	// to false: "no users are able to sign in to this app, even if they're
	// assigned to it" (servicePrincipal resource type).
	ServicePrincipalDisabled bool
	// PartialDeltaItems makes every tracked delta item carry only id and the
	// changed properties, as with Prefer: return=minimal, whatever the
	// client asks (the overview promises only "at least the properties that
	// have been updated").
	PartialDeltaItems bool
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, "/v2.0/.well-known/openid-configuration"):
		s.openid(w, r)
		return
	case strings.HasSuffix(p, "/oauth2/v2.0/token"):
		s.token(w, r)
		return
	case !strings.HasPrefix(p, "/v1.0/"):
		graphErr(w, http.StatusNotFound, "BadRequest", "Resource not found for the segment '"+p+"'.")
		return
	}
	ep := endpoint(p)
	s.mu.Lock()
	f := s.faults
	s.stats.Requests[r.Method+" "+ep]++
	s.stats.Total++
	perms, authed := s.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		s.stats.Unauthenticated++
		authed = false
	}
	if sel := r.URL.Query().Get("$select"); sel != "" {
		s.stats.Selects[ep] = sel
	}
	throttle := 0
	switch {
	case s.faults.Status429 > 0:
		s.faults.Status429--
		throttle = http.StatusTooManyRequests
	case s.faults.Status503 > 0:
		s.faults.Status503--
		throttle = http.StatusServiceUnavailable
	case s.faults.Status504 > 0:
		s.faults.Status504--
		throttle = http.StatusGatewayTimeout
	}
	s.mu.Unlock()
	w.Header().Set("request-id", requestID())
	if f.Slow > 0 {
		select {
		case <-time.After(f.Slow):
		case <-r.Context().Done():
			return
		}
	}
	if throttle != 0 {
		ra := f.RetryAfter
		if ra == 0 {
			ra = 1
		}
		if !f.NoRetryAfter {
			w.Header().Set("Retry-After", strconv.Itoa(ra))
		}
		switch throttle {
		case http.StatusTooManyRequests:
			graphErr(w, throttle, "TooManyRequests", "Too many requests.")
		case http.StatusGatewayTimeout:
			graphErr(w, throttle, "UnknownError", "The gateway did not receive a timely response.")
		default:
			graphErr(w, throttle, "serviceNotAvailable", "The service is temporarily unavailable.")
		}
		return
	}
	if !authed || f.Unauthorized {
		msg := "Access token validation failure. Invalid audience."
		if r.Header.Get("Authorization") == "" {
			msg = "Access token is empty."
		}
		graphErr(w, http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
		return
	}
	if need := permission(ep); need != "" && !slices.Contains(perms, need) && !slices.Contains(perms, "Directory.Read.All") {
		graphErr(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return
	}
	if r.Method != http.MethodGet {
		graphErr(w, http.StatusMethodNotAllowed, "Request_BadRequest", "Method not allowed.")
		return
	}
	s.route(w, r, ep, f)
}

// repeat returns the @odata.nextLink of a page caught in the RepeatPath
// cycle: the page's own link (link("")) or, with RepeatFresh, the same
// page under a token that differs every time.
func (s *Server) repeat(r *http.Request, page int, f Faults, link func(nonce string) string) (string, bool) {
	if f.RepeatPage == 0 || page != f.RepeatPage || !strings.HasPrefix(r.URL.Path, f.RepeatPath) {
		return "", false
	}
	if f.RepeatFresh {
		return link("." + requestID()[:8]), true
	}
	return link(""), true
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, ep string, page int, f Faults) bool {
	if f.FailPage > 0 && page == f.FailPage && strings.HasPrefix(r.URL.Path, f.FailPath) {
		graphErr(w, http.StatusInternalServerError, "generalException", "An unexpected error occurred.")
		return true
	}
	return false
}

func (s *Server) writePage(w http.ResponseWriter, r *http.Request, ep string, body map[string]any, page int, f Faults) {
	b, _ := json.Marshal(body)
	if f.MalformedPage > 0 && page == f.MalformedPage && strings.HasPrefix(r.URL.Path, f.MalformedPath) {
		b = b[:len(b)/2]
	}
	s.send(w, ep, b)
}
