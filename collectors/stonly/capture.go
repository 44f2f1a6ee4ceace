// This file holds the captures for whoever updates the scraper (a
// screenshot and the page's HTML when the layout changed) and the removal
// of secrets from captures and messages.

package stonly

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// layoutChanged records that the page is not as the scraper expects, and
// saves a screenshot and the page's HTML, secrets removed.
func (s *scrape) layoutChanged(t teamRef, label, why string) error {
	base := filepath.Join(s.c.cfg.DebugDir, fmt.Sprintf("team-%s-%s", safe(t.ID), time.Now().UTC().Format("20060102T150405")))
	ctx, cancel := context.WithTimeout(s.tab, 10*time.Second)
	defer cancel()
	saved := ""
	if err := os.MkdirAll(s.c.cfg.DebugDir, 0o700); err == nil {
		if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil && os.WriteFile(base+".png", png, 0o600) == nil {
			saved = base + ".png"
		}
		if h, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html"))); err == nil {
			var values []string
			if cs, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{}); err == nil {
				for _, ck := range cs.Cookies {
					values = append(values, ck.Value)
				}
			}
			if os.WriteFile(base+".html", []byte(s.c.scrub(h, values...)), 0o600) == nil {
				saved += " and " + base + ".html"
			}
		}
	}
	s.debug = append(s.debug, saved)
	return fmt.Errorf("stonly: team %s: the Team Management page layout changed: %s; capture: %s", label, why, saved)
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
