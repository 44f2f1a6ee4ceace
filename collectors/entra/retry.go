package entra

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	khttp "github.com/microsoft/kiota-http-go"
)

// Throttling. Microsoft Graph answers 429 with Retry-After; 503 and 504 may
// carry it too (learn.microsoft.com/graph/throttling, /graph/errors), and
// without it a client is to back off exponentially. kiota-http-go's retry
// handler (v1.5.4, retry_handler.go) does both: it retries 429, 503 and 504
// up to MaxRetries times, waiting Retry-After (seconds, or an RFC 1123
// date) when the answer has one and DelaySeconds·2^(n-1) plus up to one
// second of jitter before the n-th retry when it has none, and it stops on
// its own once one request has waited 180 s.
//
// It asks ShouldRetry before each retry, passing the delay waited so far,
// not the one it is about to wait; so the budget below computes that next
// delay as kiota will (retryDelay) and reserves its upper bound before
// agreeing. The waits themselves are measured where they happen, under the
// middleware (counter), and each reservation is then replaced by the wait
// kiota really made: the budget holds real waits plus the reservations of
// waits under way, and the waits reported are the real ones.

const (
	maxRetries   = 6 // per request
	delaySeconds = 2 // kiota's back-off base without Retry-After: 2, 4, 8 s ...
)

// retryDelay is the delay kiota's RetryHandler.getRetryDelay will wait
// before retry n (1-based) of resp, at most: with no Retry-After it adds a
// random jitter below one second, counted here as a whole second.
func retryDelay(resp *http.Response, n int, now time.Time) time.Duration {
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if f, err := strconv.ParseFloat(ra, 64); err == nil {
			return time.Duration(f) * time.Second // kiota truncates to whole seconds too
		}
		if t, err := time.Parse(time.RFC1123, ra); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	return time.Duration(delaySeconds*(1<<(n-1)))*time.Second + time.Second
}

// slack covers the timer and scheduling latency on top of a wait.
const slack = 50 * time.Millisecond

// budget bounds the total waiting of one collection, over all requests,
// to max_retry_wait: a throttled tenant makes the source incomplete rather
// than the run endless.
type budget struct {
	max      time.Duration
	reserved atomic.Int64 // waits made, plus the upper bounds of waits under way (ns)
	refused  atomic.Int64 // retries refused because the next wait did not fit
	pending  sync.Map     // client-request-id -> reserved upper bound (int64 ns)
}

// shouldRetry is kiota's ShouldRetry callback.
func (b *budget) shouldRetry(_ time.Duration, executionCount int, req *http.Request, resp *http.Response) bool {
	next := int64(retryDelay(resp, executionCount+1, time.Now()) + slack)
	for {
		cur := b.reserved.Load()
		if time.Duration(cur+next) > b.max {
			b.refused.Add(1)
			return false
		}
		if b.reserved.CompareAndSwap(cur, cur+next) {
			if id := req.Header.Get("client-request-id"); id != "" {
				b.pending.Store(id, next)
			}
			return true
		}
	}
}

// settle replaces the reservation of request id's wait by the wait made.
func (b *budget) settle(id string, waited time.Duration) {
	if v, ok := b.pending.LoadAndDelete(id); ok {
		b.reserved.Add(int64(waited) - v.(int64))
	}
}

func (b *budget) options() *khttp.RetryHandlerOptions {
	return &khttp.RetryHandlerOptions{MaxRetries: maxRetries, DelaySeconds: delaySeconds, ShouldRetry: b.shouldRetry}
}

// counter sits under the SDK's middleware and sees every attempt: it
// counts requests, bytes and throttled answers, and measures each wait
// between a throttled answer and the retry kiota sends for it (retries
// carry kiota's Retry-Attempt header and keep the client-request-id that
// msgraph-sdk-go-core's telemetry handler gave the request).
type counter struct {
	base               http.RoundTripper
	budget             *budget
	requests, bytes    atomic.Int64
	throttled, retries atomic.Int64
	waited             atomic.Int64 // ns
	lastStatus         atomic.Int64 // the last throttling status seen
	lastRetryAfter     atomic.Bool  // whether that answer carried Retry-After
	pending            sync.Map     // client-request-id -> time.Time of the throttled answer
}

func (t *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	id := r.Header.Get("client-request-id")
	if r.Header.Get("Retry-Attempt") != "" {
		t.retries.Add(1)
		if at, ok := t.pending.LoadAndDelete(id); ok {
			w := time.Since(at.(time.Time))
			t.waited.Add(int64(w))
			if t.budget != nil {
				t.budget.settle(id, w)
			}
		}
	}
	resp, err := t.base.RoundTrip(r)
	t.requests.Add(1)
	if resp != nil {
		switch resp.StatusCode {
		case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			t.throttled.Add(1)
			t.lastStatus.Store(int64(resp.StatusCode))
			t.lastRetryAfter.Store(resp.Header.Get("Retry-After") != "")
			if id != "" {
				t.pending.Store(id, time.Now())
			}
		}
		resp.Body = &countBody{ReadCloser: resp.Body, n: &t.bytes}
	}
	return resp, err
}

// throttling says what the retries of this collection came to, for an
// error message: "after 1 retry and 2.4s of waiting in this read (...)".
func (t *counter) throttling() string {
	n, waited := t.retries.Load(), time.Duration(t.waited.Load()).Round(100*time.Millisecond)
	s := fmt.Sprintf("(this read had retried %d %s and waited %s by then", n, plural(n, "time", "times"), waited)
	why := fmt.Sprintf("kiota's limit of %d retries per request was reached", maxRetries)
	if t.budget != nil && t.budget.refused.Load() > 0 {
		why = fmt.Sprintf("the next wait would have exceeded entra.max_retry_wait (%s)", t.budget.max)
	}
	ra := "with Retry-After"
	if !t.lastRetryAfter.Load() {
		ra = "without Retry-After (exponential back-off)"
	}
	return s + "; the last answer came " + ra + "; " + why + ")"
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

type countBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
