// faults.go holds what the simulator can inject (Faults) and serve, where
// every request enters: the request log, latency, an expiring or refused
// token, rate limits and outages, then route (routes.go). The page faults
// (capped, ignored or repeated pages, a total that drifts, bodies that are
// not SCIM) apply in listUsers.

package scimtest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Faults are failures and quirks the simulator can inject. The zero value
// is none. Pages are numbered from 1 by position: page N starts at
// startIndex (N-1)*size+1, size being what the server serves per page.
type Faults struct {
	// CapCount serves at most this many resources per page whatever count
	// asks and ServiceProviderConfig advertises. RFC 7644 §3.4.2.4 lets a
	// service provider return fewer results than count.
	CapCount int
	// IgnoreCount serves pages of this many resources whatever count asks,
	// even more than asked (which §3.4.2.4 forbids, and servers do).
	IgnoreCount int
	// IgnoreStartIndex serves every list from the first resource and
	// answers startIndex 1: a server that does not page.
	IgnoreStartIndex bool
	// RepeatPage serves page RepeatPage again in place of the page after
	// it, echoing the startIndex asked: a cursor that did not advance.
	RepeatPage int
	// TotalDriftPage/TotalDrift add TotalDrift to totalResults from page
	// TotalDriftPage on: users created or deleted while a client pages
	// (§3.4.2.4: "clients SHOULD never assume repeatable results").
	TotalDriftPage int
	TotalDrift     int

	// RateLimitPage answers that page of /Users with 429 and Retry-After
	// (RFC 6585 §4; RFC 9110 §10.2.3), RateLimitTimes times (default 1; -1
	// every time). RetryAfter is the header's value (default "1": seconds,
	// or an HTTP date).
	RateLimitPage  int
	RateLimitTimes int
	RetryAfter     string
	// Storm429 answers the next N requests of any kind with 429 and
	// Retry-After.
	Storm429 int
	// UnavailablePage answers that page with 503 Service Unavailable and
	// Retry-After, UnavailableTimes times (default 1; -1 every time).
	UnavailablePage  int
	UnavailableTimes int
	// FailPage answers that page with FailStatus (default 500) and a SCIM
	// error body, FailTimes times (0: every time).
	FailPage   int
	FailStatus int
	FailTimes  int
	// BodyPage answers that page with 200 and Body verbatim (default an
	// HTML sign-in page, as a proxy or SSO gateway in front of the API
	// serves), Content-Type BodyType (default text/html).
	BodyPage int
	Body     string
	BodyType string
	// BodyPath answers requests to this path (below BasePath, e.g.
	// /Users/u-bob) with 200 and Body: those of method BodyMethod, or of
	// every method when it is "".
	BodyPath   string
	BodyMethod string

	// Forbidden answers every request with 403: a token without the right
	// to read users (RFC 7644 §3.12).
	Forbidden bool
	// ExpireAfter accepts the token for this many requests, then answers
	// 401 as for an expired token.
	ExpireAfter int
	// RefuseWrite answers PATCH and DELETE of these user ids with the
	// given status (409 uniqueness, 500, ...) and a SCIM error body,
	// changing nothing.
	RefuseWrite map[string]int
	// NoServiceProviderConfig answers /ServiceProviderConfig with 404.
	NoServiceProviderConfig bool
	// Slow delays every response.
	Slow time.Duration
	// EchoToken puts the Authorization header it received into the detail
	// of 401 and FailPage errors, as careless servers do: a client must
	// not pass it on.
	EchoToken bool
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, BasePath)
	s.mu.Lock()
	s.log = append(s.log, Request{Method: r.Method, Path: path, Query: r.URL.RawQuery})
	s.requests++
	n := s.requests
	f := s.faults
	storm := s.faults.Storm429 > 0
	if storm {
		s.faults.Storm429--
	}
	s.mu.Unlock()

	if f.Slow > 0 {
		select {
		case <-time.After(f.Slow):
		case <-r.Context().Done():
			return
		}
	}
	if r.Header.Get("Authorization") != "Bearer "+s.Token || (f.ExpireAfter > 0 && n > f.ExpireAfter) {
		// RFC 6750 §3: a refused bearer token is named in the challenge.
		desc := "The access token is invalid"
		if f.ExpireAfter > 0 && n > f.ExpireAfter {
			desc = "The access token expired"
		}
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="scimtest", error="invalid_token", error_description=%q`, desc))
		if f.EchoToken {
			desc += " (" + r.Header.Get("Authorization") + ")"
		}
		scimError(w, http.StatusUnauthorized, "", desc+".")
		return
	}
	if f.Forbidden {
		scimError(w, http.StatusForbidden, "", "The token does not allow reading or changing users.")
		return
	}
	if storm {
		s.tooMany(w, f)
		return
	}
	if f.BodyPath != "" && f.BodyPath == path && (f.BodyMethod == "" || f.BodyMethod == r.Method) {
		writeBody(w, f)
		return
	}
	s.route(w, r, path)
}

func (s *Server) tooMany(w http.ResponseWriter, f Faults) {
	ra := f.RetryAfter
	if ra == "" {
		ra = "1"
	}
	w.Header().Set("Retry-After", ra)
	scimError(w, http.StatusTooManyRequests, "", "Too many requests; retry after "+ra+".")
}

// pageFault answers a page of /Users as the faults say; it reports
// whether it answered.
func (s *Server) pageFault(w http.ResponseWriter, r *http.Request, page int) bool {
	s.mu.Lock()
	f := &s.faults
	hit := func(at int, times *int, used *int, def int) bool {
		if at == 0 || at != page {
			return false
		}
		limit := *times
		if limit == 0 {
			limit = def
		}
		if limit > 0 && *used >= limit {
			return false
		}
		*used++
		return true
	}
	rate := hit(f.RateLimitPage, &f.RateLimitTimes, &s.used.rate, 1)
	unavail := hit(f.UnavailablePage, &f.UnavailableTimes, &s.used.unavail, 1)
	fail := hit(f.FailPage, &f.FailTimes, &s.used.fail, -1)
	body := f.BodyPage != 0 && f.BodyPage == page
	ff := *f
	s.mu.Unlock()
	switch {
	case rate:
		s.tooMany(w, ff)
	case unavail:
		ra := ff.RetryAfter
		if ra == "" {
			ra = "1"
		}
		w.Header().Set("Retry-After", ra)
		scimError(w, http.StatusServiceUnavailable, "", "The service is temporarily unavailable.")
	case fail:
		st := ff.FailStatus
		if st == 0 {
			st = http.StatusInternalServerError
		}
		detail := "An internal error occurred."
		if ff.EchoToken {
			detail += " Request: Authorization: " + r.Header.Get("Authorization")
		}
		scimError(w, st, "", detail)
	case body:
		writeBody(w, ff)
	default:
		return false
	}
	return true
}

// writeBody answers 200 with the faults' Body: by default the HTML
// sign-in page a proxy or SSO gateway in front of an API serves.
func writeBody(w http.ResponseWriter, f Faults) {
	b, t := f.Body, f.BodyType
	if b == "" {
		b = "<!doctype html><html><head><title>Sign in</title></head><body><form action=\"/login\"><input name=\"password\" type=\"password\"></form></body></html>"
	}
	if t == "" {
		t = "text/html; charset=utf-8"
	}
	w.Header().Set("Content-Type", t)
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(b))
}
