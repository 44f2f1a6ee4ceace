package okta

import (
	"context"
	"io"
	"math/rand/v2"
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
// gives every attempt its own deadline; and it counts what happened for
// the completeness record.
type transport struct {
	base       http.RoundTripper
	maxRetries int
	attempt    time.Duration // deadline of one attempt
	backoff    time.Duration // first retry delay
	onWait     func(time.Duration)

	mu      sync.Mutex
	buckets map[string]*rate

	requests, retries, throttled atomic.Int64
	waited                       atomic.Int64 // nanoseconds
	bytes                        atomic.Int64
}

// rate is what Okta last said about one endpoint family's window.
type rate struct {
	known     bool
	limit     int
	remaining int
	reset     time.Time
	inflight  int
}

func newTransport(base http.RoundTripper, maxRetries int, attempt time.Duration) *transport {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, maxRetries: maxRetries, attempt: attempt, backoff: 250 * time.Millisecond, buckets: map[string]*rate{}}
}

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
	for attempt := 0; ; attempt++ {
		if err := t.acquire(req.Context(), fam); err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(req.Context(), t.attempt)
		resp, err := t.base.RoundTrip(req.WithContext(ctx))
		t.requests.Add(1)
		t.observe(fam, resp)
		if err != nil {
			cancel()
		} else {
			resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel, n: &t.bytes}
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
		// Full jitter: a random wait up to base*2^attempt, capped, so that
		// clients retrying together do not come back together.
		d := time.Duration(rand.Int64N(int64(min(t.backoff<<attempt, 10*time.Second)) + 1))
		if err := sleep(req.Context(), d); err != nil {
			return nil, err
		}
	}
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

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
	n      *atomic.Int64
}

func (b *cancelBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
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
