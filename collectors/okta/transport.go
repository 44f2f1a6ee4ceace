package okta

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// transport sits under the Okta SDK's HTTP client. It reads Okta's
// X-Rate-Limit-* headers on every response and holds requests back before
// a bucket runs dry, so that a large read never turns into a 429 storm;
// it retries 5xx answers and network errors of GET requests with bounded
// exponential backoff and full jitter (the SDK retries only 429s); it
// gives every attempt its own deadline; it bounds the requests in flight,
// because Okta also limits concurrent requests per org (75 for Workforce
// orgs, 15 for a free developer org, shared by every integration: Okta's
// "Concurrency limits", developer.okta.com/docs/reference/rl2-concurrency);
// and it counts what happened for the completeness record.
type transport struct {
	base       http.RoundTripper
	maxRetries int
	attempt    time.Duration // deadline of one attempt
	backoff    time.Duration // first retry delay
	onWait     func(time.Duration)
	flight     *gate // requests in flight

	mu      sync.Mutex
	buckets map[string]*rate

	requests, retries, throttled atomic.Int64
	smaller                      atomic.Int64 // retries with a smaller page
	waited                       atomic.Int64 // nanoseconds
	bytes                        atomic.Int64
	// challenge is the last WWW-Authenticate challenge of a refused
	// request (e.g. error="invalid_token"), which the SDK does not keep.
	challenge atomic.Pointer[challenge]
	// lowered is the bound in flight after a 429 that reported the org's
	// concurrency limit, for the record; 0 when none did.
	lowered atomic.Int64
}

// gate is a semaphore whose size can be lowered while requests wait.
type gate struct {
	mu          sync.Mutex
	limit, used int
	wake        chan struct{} // closed, and replaced, when a request ends
}

func newGate(n int) *gate { return &gate{limit: max(n, 1), wake: make(chan struct{})} }

func (g *gate) acquire(ctx context.Context) error {
	for {
		g.mu.Lock()
		if g.used < g.limit {
			g.used++
			g.mu.Unlock()
			return nil
		}
		w := g.wake
		g.mu.Unlock()
		select {
		case <-w:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (g *gate) release() {
	g.mu.Lock()
	g.used--
	close(g.wake)
	g.wake = make(chan struct{})
	g.mu.Unlock()
}

// lower makes the gate admit at most n requests from now on (those in
// flight finish); it reports whether that lowered it.
func (g *gate) lower(n int) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n >= g.limit {
		return false
	}
	g.limit = max(n, 1)
	return true
}

func (g *gate) size() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limit
}

// challenge is the error of an RFC 6750 WWW-Authenticate header.
type challenge struct {
	Error, Description string
}

// rate is what Okta last said about one endpoint family's window.
type rate struct {
	known     bool
	limit     int
	remaining int
	reset     time.Time
	inflight  int
}

func newTransport(base http.RoundTripper, maxRetries int, attempt time.Duration, concurrency int) *transport {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, maxRetries: maxRetries, attempt: attempt, backoff: 250 * time.Millisecond, buckets: map[string]*rate{},
		flight: newGate(concurrency)}
}

// omitCredentials is the Content-Type with which Okta leaves the
// credentials object and the credential links out of listed users
// (the OktaResponse parameter of listUsers in Okta's management API spec):
// fewer bytes, and nothing idgraph reads.
const omitCredentials = "application/json; okta-response=omitCredentials,omitCredentialsLinks"

// minPage is the smallest page a retry asks for; recommendedPage is the
// page Okta recommends where its default is larger ("The recommended page
// limit is now limit=200", listGroupUsers in the management API spec), so
// a retry of a large page asks for that first, then halves.
const (
	minPage         = 10
	recommendedPage = 200
)

// family groups paths the way Okta's rate limits do: by endpoint family.
func family(path string) string {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 4)
	if len(parts) >= 3 {
		return strings.Join(parts[:3], "/")
	}
	return path
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	fam := family(req.URL.Path)
	if req.Method == http.MethodGet && req.URL.Path == "/api/v1/users" {
		req = req.Clone(req.Context())
		req.Header.Set("Content-Type", omitCredentials)
	}
	for attempt := 0; ; attempt++ {
		if err := t.acquire(req.Context(), fam); err != nil {
			return nil, err
		}
		if err := t.flight.acquire(req.Context()); err != nil {
			t.observe(fam, nil)
			return nil, err
		}
		var once sync.Once
		release := func() { once.Do(t.flight.release) }
		ctx, cancel := context.WithTimeout(req.Context(), t.attempt)
		resp, err := t.base.RoundTrip(req.WithContext(ctx))
		t.requests.Add(1)
		if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
			t.concurrency429(fam, resp)
		}
		t.observe(fam, resp)
		if err != nil {
			cancel()
			release()
		} else {
			resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel, release: release, n: &t.bytes}
			if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
				if c := parseChallenge(resp.Header.Get("WWW-Authenticate")); c != nil {
					t.challenge.Store(c)
				}
			}
		}
		if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
			t.throttled.Add(1) // the SDK waits for the reset and retries
		}
		retry := req.Method == http.MethodGet && req.Context().Err() == nil &&
			(err != nil || resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented)
		if !retry || attempt >= t.maxRetries {
			return resp, err
		}
		if resp != nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		t.retries.Add(1)
		if err == nil || timeout(err) {
			// "If your request times out, retry your request with a smaller
			// limit and page the results" (the limit parameter of Okta's list
			// operations, management API spec). The cursor is the last id
			// read, so a smaller page skips nothing; the next link carries
			// the smaller limit on.
			if r, ok := smallerPage(req); ok {
				req = r
				t.smaller.Add(1)
			}
		}
		// Full jitter: a random wait up to base*2^attempt, capped, so that
		// clients retrying together do not come back together.
		d := time.Duration(rand.Int64N(int64(min(t.backoff<<attempt, 10*time.Second)) + 1))
		if err := sleep(req.Context(), d); err != nil {
			return nil, err
		}
	}
}

// concurrency429 lowers the requests in flight when a 429 reports Okta's
// concurrency limit: then "X-Rate-Limit-Limit, X-Rate-Limit-Remaining,
// and X-Rate-Limit-Reset report the concurrent values" (Okta, Rate limit
// best practices). A 429 whose limit differs from the per-minute limit
// the family's other answers reported, and is at or below our own bound,
// is the org's concurrency limit, which other integrations share. The
// transport then keeps to half of it for the rest of the read.
func (t *transport) concurrency429(fam string, resp *http.Response) {
	limit, err1 := strconv.Atoi(resp.Header.Get("X-Rate-Limit-Limit"))
	remaining, err2 := strconv.Atoi(resp.Header.Get("X-Rate-Limit-Remaining"))
	if err1 != nil || err2 != nil || remaining != 0 || limit <= 0 {
		return
	}
	t.mu.Lock()
	b := t.buckets[fam]
	perMinute := b != nil && b.known && b.limit == limit
	t.mu.Unlock()
	if perMinute {
		return
	}
	if limit <= t.flight.size() && t.flight.lower(limit/2) {
		t.lowered.Store(int64(t.flight.size()))
	}
}

// smallerPage returns req asking for half its page, if it asks for a page
// larger than minPage.
func smallerPage(req *http.Request) (*http.Request, bool) {
	q := req.URL.Query()
	n, err := strconv.Atoi(q.Get("limit"))
	if err != nil || n <= minPage {
		return req, false
	}
	q.Set("limit", strconv.Itoa(max(min(n/2, recommendedPage), minPage)))
	r := req.Clone(req.Context())
	r.URL.RawQuery = q.Encode()
	return r, true
}

func timeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// parseChallenge reads the error and error_description of a Bearer or
// DPoP WWW-Authenticate header (RFC 6750 section 3); nil when it has none.
func parseChallenge(h string) *challenge {
	if h == "" {
		return nil
	}
	c := &challenge{}
	for _, kv := range splitParams(h) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "error":
			c.Error = v
		case "error_description":
			c.Description = v
		}
	}
	if c.Error == "" {
		return nil
	}
	return c
}

// splitParams splits auth-params on the commas outside quoted strings.
func splitParams(h string) []string {
	if _, rest, ok := strings.Cut(h, " "); ok && !strings.Contains(h[:len(h)-len(rest)], "=") {
		h = rest // the scheme
	}
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(h); i++ {
		switch h[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, h[start:i])
				start = i + 1
			}
		}
	}
	return append(out, h[start:])
}

// acquire waits while the family's window has no request left that is not
// already in flight.
func (t *transport) acquire(ctx context.Context, fam string) error {
	for {
		t.mu.Lock()
		b := t.buckets[fam]
		if b == nil {
			b = &rate{}
			t.buckets[fam] = b
		}
		now := time.Now()
		if b.known && !now.Before(b.reset) {
			// A new window began: the next response reports its count.
			b.known = false
		}
		if !b.known || b.remaining-b.inflight > 0 {
			b.inflight++
			t.mu.Unlock()
			return nil
		}
		wait := time.Until(b.reset) + 25*time.Millisecond
		t.mu.Unlock()
		t.waited.Add(int64(wait))
		if t.onWait != nil {
			t.onWait(wait)
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// observe records a response's rate-limit headers and ends its flight.
func (t *transport) observe(fam string, resp *http.Response) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buckets[fam]
	b.inflight--
	if resp == nil {
		return
	}
	limit, err1 := strconv.Atoi(resp.Header.Get("X-Rate-Limit-Limit"))
	remaining, err2 := strconv.Atoi(resp.Header.Get("X-Rate-Limit-Remaining"))
	reset, err3 := strconv.ParseInt(resp.Header.Get("X-Rate-Limit-Reset"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return
	}
	r := time.Unix(reset, 0)
	switch {
	case !b.known || r.After(b.reset):
		b.limit, b.remaining, b.reset, b.known = limit, remaining, r, true
	case r.Equal(b.reset):
		// Responses of one window can arrive out of order: the smallest
		// remaining count is the freshest.
		b.remaining = min(b.remaining, remaining)
	}
}

// cancelBody ends an attempt's deadline and frees its slot when the body
// is read to its end or closed: a request is in flight until then.
type cancelBody struct {
	io.ReadCloser
	cancel  context.CancelFunc
	release func()
	n       *atomic.Int64
}

func (b *cancelBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	if err == io.EOF {
		b.release()
	}
	return n, err
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	b.release()
	return err
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
