// This file holds the HTTP side: one request with the bearer token, the
// bounded retries of 429 and 503 that honour Retry-After, SCIM error
// bodies (RFC 7644 §3.12), and errors that say what to do without ever
// carrying the token.

package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The URNs of RFC 7643 and RFC 7644 the source reads and writes.
const (
	userSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"                 // RFC 7643 §4.1
	enterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" // RFC 7643 §4.3
	listResponseURN  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"         // RFC 7644 §3.4.2
	patchOpURN       = "urn:ietf:params:scim:api:messages:2.0:PatchOp"              // RFC 7644 §3.5.2
	errorURN         = "urn:ietf:params:scim:api:messages:2.0:Error"                // RFC 7644 §3.12
	// scimMedia is the media type of SCIM messages (RFC 7644 §8.1).
	scimMedia = "application/scim+json"
)

// counters are what requests cost, for the completeness record.
type counters struct {
	Requests int
	Retries  int
	Waited   time.Duration
}

// response is one HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// HTTPError is an answer that was not a success.
type HTTPError struct {
	Method, Path string // the request, path below the base URL
	Status       int
	ScimType     string // RFC 7644 §3.12 scimType, when the body is a SCIM error
	Detail       string // the SCIM error's detail, or what the body was
	SCIM         bool   // the body was a SCIM error
	Fix          string // what an operator does about it
}

func (e *HTTPError) Error() string {
	if e.Fix != "" {
		return e.Answer() + "; " + e.Fix
	}
	return e.Answer()
}

// Answer is what the server answered, without the fix.
func (e *HTTPError) Answer() string {
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.ScimType != "" {
		s += " (" + e.ScimType + ")"
	}
	if d := strings.TrimRight(e.Detail, ". "); d != "" {
		s += ": " + d
	}
	return s
}

// do sends one request and retries it when the server asks to wait (429,
// and 503 with Retry-After: RFC 6585 §4, RFC 9110 §15.6.4 and §10.2.3), at
// most maxRetries times and never waiting longer than maxWait at once.
func (c *Collector) do(ctx context.Context, n *counters, method, path string, query url.Values, body any) (*response, error) {
	target := c.cfg.URL + path
	shown := path
	if len(query) > 0 {
		target += "?" + query.Encode()
		shown += "?" + query.Encode()
	}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, shown, err)
		}
	}
	for attempt := 0; ; attempt++ {
		resp, err := c.once(ctx, n, method, target, payload)
		if err != nil {
			return nil, c.netError(ctx, method, shown, err)
		}
		if resp.Status != http.StatusTooManyRequests && resp.Status != http.StatusServiceUnavailable {
			return resp, nil
		}
		wait, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now())
		if !ok {
			if resp.Status == http.StatusServiceUnavailable {
				// A 503 that names no time is an outage, not a pause.
				return resp, nil
			}
			wait = time.Duration(1<<attempt) * time.Second
		}
		if attempt >= maxRetries {
			e := c.httpError(method, shown, resp)
			e.Fix = fmt.Sprintf("still answered after %d retries; run again later", maxRetries)
			return nil, e
		}
		if wait > maxWait {
			e := c.httpError(method, shown, resp)
			e.Fix = fmt.Sprintf("the server asks to wait %s, more than the %s idgraph waits; run again later", wait.Round(time.Second), maxWait)
			return nil, e
		}
		n.Retries++
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%s %s: waiting %s as the server asked: %w", method, shown, wait, err)
		}
		n.Waited += wait
	}
}

func (c *Collector) once(ctx context.Context, n *counters, method, target string, payload []byte) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", scimMedia+", application/json;q=0.9")
	if payload != nil {
		req.Header.Set("Content-Type", scimMedia)
	}
	n.Requests++
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// sleep waits d or until ctx ends.
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

// retryAfter reads a Retry-After value (RFC 9110 §10.2.3): delay-seconds
// or an HTTP-date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(s, 0)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func (c *Collector) netError(ctx context.Context, method, path string, err error) error {
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%s %s: %w", method, path, ctx.Err())
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%s %s: no answer within %s (scim.timeout); check that %s is up, or raise the timeout", method, path, c.cfg.Timeout, c.host())
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is already named
	}
	return fmt.Errorf("%s %s: %s is unreachable (%s); check scim.url, DNS, proxy and firewall", method, path, c.host(), c.redact(err))
}

func (c *Collector) host() string {
	u, err := url.Parse(c.cfg.URL)
	if err != nil {
		return c.cfg.URL
	}
	return u.Host
}

// httpError describes an answer that was not a success, with the SCIM
// error's scimType and detail when the body is one, and what to do.
func (c *Collector) httpError(method, path string, r *response) *HTTPError {
	e := &HTTPError{Method: method, Path: path, Status: r.Status}
	var se struct {
		Schemas  []string        `json:"schemas"`
		Status   json.RawMessage `json:"status"`
		ScimType string          `json:"scimType"`
		Detail   string          `json:"detail"`
	}
	if json.Unmarshal(r.Body, &se) == nil && (len(se.Status) > 0 || se.Detail != "" || contains(se.Schemas, errorURN)) {
		e.SCIM, e.ScimType, e.Detail = true, c.redact(se.ScimType), c.redact(se.Detail)
	} else {
		e.Detail = "the body is not a SCIM error (" + describe(r) + ")"
	}
	switch r.Status {
	case http.StatusUnauthorized:
		e.Fix = fmt.Sprintf("the token in %s was refused (wrong, expired or revoked): create a SCIM token in %s's admin settings and set %s", c.cfg.TokenEnv, c.cfg.Title, c.cfg.TokenEnv)
	case http.StatusForbidden:
		e.Fix = fmt.Sprintf("the token in %s is valid but may not do this: give it (or its owner) the right to manage users by SCIM in %s", c.cfg.TokenEnv, c.cfg.Title)
	case http.StatusNotFound:
		if path == "/Users" || strings.HasPrefix(path, "/Users?") || path == "/ServiceProviderConfig" {
			e.Fix = fmt.Sprintf("check scim.url: %s does not look like a SCIM base URL", c.cfg.URL)
		}
	}
	return e
}

// describe says in a few words what a body was.
func describe(r *response) string {
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	if mt == "" {
		mt = "no Content-Type"
	}
	if len(r.Body) == 0 {
		return mt + ", empty"
	}
	return fmt.Sprintf("%s, %d bytes", mt, len(r.Body))
}

// redact removes the token from text a server sent back.
func (c *Collector) redact(v any) string {
	s := fmt.Sprint(v)
	if c.token != "" {
		s = strings.ReplaceAll(s, c.token, "[redacted]")
	}
	return s
}

func (c *Collector) redactBytes(b []byte) []byte {
	if c.token == "" || !bytes.Contains(b, []byte(c.token)) {
		return b
	}
	return bytes.ReplaceAll(b, []byte(c.token), []byte("[redacted]"))
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}
