// This file holds what every step does with the page: the step
// deadline, the page's state as extract.js reports it, polling,
// navigation, network errors, and the helpers of actions.js.

package stonly

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// step runs f with the step deadline.
func (s *scrape) step(what string, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(s.tab, s.c.cfg.StepTimeout)
	defer cancel()
	if err := f(ctx); err != nil {
		var ne *NetError
		if errors.As(err, &ne) {
			return fmt.Errorf("stonly: %s: %w", what, err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("stonly: %s: no answer within %s (stonly.step_timeout)", what, s.c.cfg.StepTimeout)
		}
		return fmt.Errorf("stonly: %s: %w", what, err)
	}
	return nil
}

func (c *Collector) abs(path string) string {
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + path
	return u.String()
}

// pageState is what extract.js reports.
type pageState struct {
	URL     string   `json:"url"`
	Title   string   `json:"title"`
	Login   bool     `json:"login"`
	MFA     bool     `json:"mfa"`
	Captcha bool     `json:"captcha"`
	Alert   string   `json:"alert"`
	Tables  []table  `json:"tables"`
	Counts  []string `json:"counts"`
	Empty   bool     `json:"empty"`
	Denied  string   `json:"denied"` // the page refuses Team Management (not an Admin), in its words
	// InvitesPending: an invitations section is on the page but its list
	// (or its "none") has not rendered yet.
	InvitesPending bool `json:"invitesPending"`
	Next           bool `json:"next"`
	LoadMore       bool `json:"loadMore"`
	Busy           bool `json:"busy"`
}

type table struct {
	Label   string   `json:"label"`
	Headers []string `json:"headers"`
	Rows    [][]cell `json:"rows"`
	Empty   bool     `json:"empty"`   // no rows, and the list's own section says the team has no members
	Virtual bool     `json:"virtual"` // only the rows in view exist: read by scrolling its container
	AtEnd   bool     `json:"atEnd"`   // its container is scrolled to the end
	Covered bool     `json:"covered"` // the rows in view are rendered (not spacers)
}

type cell struct {
	T string `json:"t"`
	D string `json:"d"`
}

func (s *scrape) state(ctx context.Context) (*pageState, error) {
	st, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](extractJS))
	if err != nil {
		return nil, err
	}
	return &st, nil
}

// poll evaluates the page until done returns true, or the step deadline
// passes. Between evaluations it waits in the page for the DOM to change
// and settle (actions.js settle), at most 250ms: reacting to the app's
// render instead of sleeping a fixed interval saves most of a sleep per
// page, and evaluates the page far less often while the app is slow.
func (s *scrape) poll(ctx context.Context, done func(*pageState) (bool, error)) (*pageState, error) {
	for {
		st, err := s.state(ctx)
		if err == nil {
			ok, derr := done(st)
			if derr != nil || ok {
				return st, derr
			}
		} else if ctx.Err() != nil {
			return nil, err
		}
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](actionsJS+";\nwindow.__idgraph.settle(250)", chromedp.EvalAwaitPromise)); err != nil {
			// A navigation destroys the page the wait ran in; pause
			// briefly rather than spin until the new page answers.
			select {
			case <-ctx.Done():
				return st, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

func (s *scrape) navigate(ctx context.Context, u string) error {
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		return s.c.classify(ctx, err, u)
	}
	s.comp.Requests++
	return nil
}

// NetError is a failure to reach stonly.url: a refused connection, a name
// that does not resolve, a TLS certificate the browser rejects, or no
// answer in time. It is never a matter of credentials.
type NetError struct {
	URL  string
	Kind string // "connection", "dns", "tls", "timeout"
	Code string // Chromium's error text (net/base/net_error_list.h), e.g. net::ERR_CONNECTION_REFUSED
}

func (e *NetError) Error() string {
	what := map[string]string{
		"connection": "the connection failed",
		"dns":        "the host name does not resolve",
		"tls":        "the browser rejects the server's TLS certificate",
		"timeout":    "no answer in time",
	}[e.Kind]
	fix := "check stonly.url, DNS, any proxy or firewall between this machine and Stonly, and that the app is up"
	if e.Kind == "tls" {
		fix = "check that stonly.url names the app's real host, and any proxy that intercepts TLS"
	}
	return fmt.Sprintf("cannot reach %s: %s (%s): a network problem with stonly.url, not the login or its credentials; %s", e.URL, what, e.Code, fix)
}

// classify turns a navigation failure into a NetError when it is one.
// Chromium's error codes come in ranges (net/base/net_error_list.h):
// 100-199 connection, 200-299 and the SSL ones certificate and TLS,
// 800-899 DNS; their texts name the range well enough.
func (c *Collector) classify(ctx context.Context, err error, u string) error {
	var le *chromedp.LoadError
	if errors.As(err, &le) {
		code := le.ErrorText
		kind := ""
		switch {
		case strings.Contains(code, "NAME_NOT_RESOLVED") || strings.Contains(code, "NAME_RESOLUTION") || strings.Contains(code, "DNS"):
			kind = "dns"
		case strings.Contains(code, "CERT") || strings.Contains(code, "SSL") || strings.Contains(code, "TLS"):
			kind = "tls"
		case strings.Contains(code, "TIMED_OUT"):
			kind = "timeout"
		case strings.Contains(code, "CONNECTION") || strings.Contains(code, "ADDRESS") || strings.Contains(code, "INTERNET_DISCONNECTED") ||
			strings.Contains(code, "NETWORK") || strings.Contains(code, "PROXY") || strings.Contains(code, "EMPTY_RESPONSE"):
			kind = "connection"
		}
		if kind != "" {
			return fmt.Errorf("%w", &NetError{URL: u, Kind: kind, Code: code})
		}
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		return &NetError{URL: u, Kind: "timeout", Code: fmt.Sprintf("the page did not load within %s, stonly.step_timeout", c.cfg.StepTimeout)}
	}
	return err
}

// action runs one helper of actions.js. The helpers are defined anew in
// every call, since each navigation starts a fresh page.
func action[T any](ctx context.Context, name string) (T, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[T](actionsJS+";\nwindow.__idgraph."+name+"()"))
}

// actionSettled runs an action of actions.js and waits in the page, at
// most wait, for the render it causes to settle. The observer is in place
// before the click, so a fast render cannot slip between the two.
func actionSettled(ctx context.Context, name string, wait time.Duration) error {
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf("%s;\nwindow.__idgraph.settled(%q, %d)", actionsJS, name, wait.Milliseconds()), chromedp.EvalAwaitPromise))
	return err
}
