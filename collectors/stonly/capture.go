// This file holds the captures for whoever updates the scraper (a
// screenshot and the page's HTML when the layout changed) and the removal
// of secrets from captures and messages.

package stonly

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// layoutChanged records that the page is not as the scraper expects, and
// saves a screenshot and the page's HTML, secrets removed.
func (s *scrape) layoutChanged(t teamRef, label, why string) error {
	saved := s.capture(fmt.Sprintf("team-%s", safe(t.ID)))
	return fmt.Errorf("stonly: team %s: the Team Management page layout changed: %s; capture: %s", label, why, saved)
}

// capture saves a screenshot of the page (what it shows of a secret
// masked) and its HTML (scrubbed) in the debug folder, mode 0600, under
// name and the time, and says where.
func (s *scrape) capture(name string) string {
	base := filepath.Join(s.c.cfg.DebugDir, fmt.Sprintf("%s-%s", name, time.Now().UTC().Format("20060102T150405.000")))
	ctx, cancel := context.WithTimeout(s.tab, 10*time.Second)
	defer cancel()
	saved := ""
	if err := os.MkdirAll(s.c.cfg.DebugDir, 0o700); err == nil {
		if png, err := s.screenshot(ctx); err == nil && os.WriteFile(base+".png", png, 0o600) == nil {
			saved = base + ".png"
		}
		if h, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html"))); err == nil {
			if os.WriteFile(base+".html", []byte(s.c.scrub(h, s.cookieValues(ctx)...)), 0o600) == nil {
				if saved != "" {
					saved += " and "
				}
				saved += base + ".html"
			}
		}
	}
	if saved == "" {
		saved = "none could be saved in " + s.c.cfg.DebugDir
	}
	s.debug = append(s.debug, saved)
	return saved
}

// cookieValues are the values of the browser's cookies: secrets, wherever
// they show up.
func (s *scrape) cookieValues(ctx context.Context) []string {
	var values []string
	if cs, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{}); err == nil {
		for _, ck := range cs.Cookies {
			values = append(values, ck.Value)
		}
	}
	return values
}

// screenshot takes a PNG of what the page shows, after masking in the page
// any secret its text or fields show (the password, the session cookie,
// the browser's cookie values, tokens: whatever scrub would remove). The
// pixels cannot be scrubbed afterwards, so the page is.
func (s *scrape) screenshot(ctx context.Context) ([]byte, error) {
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[string](actJS+";\nwindow.__idact.shown()"))
	if err != nil {
		return nil, err
	}
	if found := s.c.secretsIn(shown, s.cookieValues(ctx)...); len(found) > 0 {
		arg, _ := json.Marshal(found)
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](actJS+";\nwindow.__idact.mask("+string(arg)+")")); err != nil {
			return nil, fmt.Errorf("masking what the page shows of a secret before the screenshot: %w", err)
		}
	}
	return chromedp.Run(ctx, chromedp.CaptureScreenshot())
}

// secretsIn lists the strings of text that scrub would remove: the
// configured secrets, the cookie values given, JWTs, Authorization values,
// cookie text and long random strings.
func (c *Collector) secretsIn(text string, cookies ...string) []string {
	var found []string
	add := func(v string) {
		if v != "" && strings.Contains(text, v) && !slices.Contains(found, v) {
			found = append(found, v)
		}
	}
	for _, v := range append([]string{c.password, c.cookie}, cookies...) {
		if len(v) >= 4 {
			add(v)
		}
	}
	for _, re := range []*regexp.Regexp{jwtToken, authHeader, cookieText} {
		for _, m := range re.FindAllString(text, -1) {
			add(m)
		}
	}
	random := func(m string) bool { return hasDigit.MatchString(m) && hasLetter.MatchString(m) }
	for _, m := range longToken.FindAllString(text, -1) {
		if random(m) {
			add(m)
		}
	}
	for _, m := range longBase64.FindAllString(text, -1) {
		if looksBase64.MatchString(m) && random(m) {
			add(m)
		}
	}
	return found
}

func safe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, s)
}

var (
	inputValue = regexp.MustCompile(`(?i)(<input[^>]*\svalue=)("[^"]*"|'[^']*')`)
	// A JWT: a session or access token that single-page apps keep in their
	// page state.
	jwtToken = regexp.MustCompile(`eyJ[\w-]+\.[\w-]+\.[\w-]+`)
	// An Authorization header or a bearer token, in page state or a log.
	authHeader = regexp.MustCompile(`(?i)(authorization["']?\s*[:=]\s*["']?\s*(?:(?:bearer|basic|token)\s+)?|bearer\s+)[^\s"'<>,;]+`)
	// A Cookie header or document.cookie text: every value goes.
	cookieText = regexp.MustCompile(`(?i)((?:set-)?cookie["']?\s*[:=]\s*["']?)[^"'<>\n]+`)
	// Long random strings: base64url or hex (session ids, CSRF tokens) and
	// standard base64 (with + or a = padding).
	longToken   = regexp.MustCompile(`[A-Za-z0-9_-]{32,}`)
	longBase64  = regexp.MustCompile(`[A-Za-z0-9+/]{32,}={0,2}`)
	hasDigit    = regexp.MustCompile(`[0-9]`)
	hasLetter   = regexp.MustCompile(`[A-Za-z]`)
	looksBase64 = regexp.MustCompile(`[+]|=$`)
)

// scrub removes secrets from captured HTML: input values, the password and
// session cookie, the browser's cookie values, and generically any token
// the page holds (a JWT, an Authorization value, long random strings), so
// that a capture never holds a live session.
func (c *Collector) scrub(h string, cookies ...string) string {
	h = inputValue.ReplaceAllString(h, `$1"[REDACTED]"`)
	for _, v := range cookies {
		if len(v) >= 8 {
			h = strings.ReplaceAll(h, v, "[REDACTED]")
		}
	}
	h = c.redact(h)
	h = cookieText.ReplaceAllString(h, "${1}[REDACTED]")
	random := func(m string) string {
		// Random strings mix letters and digits; words and names do not.
		if hasDigit.MatchString(m) && hasLetter.MatchString(m) {
			return "[REDACTED]"
		}
		return m
	}
	h = longToken.ReplaceAllStringFunc(h, random)
	return longBase64.ReplaceAllStringFunc(h, func(m string) string {
		if looksBase64.MatchString(m) {
			return random(m)
		}
		return m
	})
}

// redact removes the configured secrets and any JWT or Authorization
// value from a message or capture.
func (c *Collector) redact(s string) string {
	for _, sec := range []string{c.password, c.cookie} {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	s = jwtToken.ReplaceAllString(s, "[REDACTED]")
	return authHeader.ReplaceAllString(s, "${1}[REDACTED]")
}
