// This file holds the session: logging in with a password or a session
// cookie, telling the app's pages from the login page, and signing out.

package stonly

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

var errSession = errors.New("session lost")

func (s *scrape) login() error {
	if s.c.cookie != "" {
		return s.step("opening the app with the session cookie", func(ctx context.Context) error {
			if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: s.c.cfg.SessionCookieName,
				Value: s.c.cookie, URL: s.c.abs("/"), HTTPOnly: new(true)}); err != nil {
				return err
			}
			if err := s.navigate(ctx, s.c.abs(s.c.cfg.AppPath)); err != nil {
				return err
			}
			st, err := s.poll(ctx, func(st *pageState) (bool, error) { return st.Login || s.inApp(st), nil })
			if err != nil {
				return err
			}
			if st.Login {
				return fmt.Errorf("%w: Stonly did not accept the session cookie in %s (expired or revoked?): log in again in a browser and copy a fresh %s cookie",
					errSession, s.c.cfg.SessionCookieEnv, s.c.cfg.SessionCookieName)
			}
			return nil
		})
	}
	return s.step("logging in", func(ctx context.Context) error {
		if err := s.navigate(ctx, s.c.abs(s.c.cfg.LoginPath)); err != nil {
			return err
		}
		st, err := s.poll(ctx, func(st *pageState) (bool, error) { return st.Login || s.inApp(st), nil })
		if err != nil {
			return fmt.Errorf("no login form at %s: %w", s.c.cfg.LoginPath, err)
		}
		if s.inApp(st) {
			return nil // already logged in
		}
		if st.Captcha {
			return errors.New("the login page asks for a captcha, which an unattended run cannot solve: use a session cookie (session_cookie_env) or ask Stonly to allow this account")
		}
		if err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS(`input[type=email],input[name=email],input[autocomplete=username]`), s.c.cfg.Email),
			chromedp.SendKeys(chromedp.CSS(`input[type=password]`), s.c.password),
			chromedp.Click(chromedp.CSS(`form button[type=submit],form input[type=submit],form button:not([type])`)),
		); err != nil {
			return fmt.Errorf("filling the login form: %w", err)
		}
		s.comp.Requests++
		// One attempt, then a verdict: a wrong password never loops.
		st, err = s.poll(ctx, func(st *pageState) (bool, error) {
			return s.inApp(st) || st.Alert != "" || st.MFA, nil
		})
		switch {
		case err != nil:
			return fmt.Errorf("the login did not complete: %w", err)
		case s.inApp(st):
			return nil
		case st.MFA:
			return fmt.Errorf("the Stonly login asks %s for a verification code (multi-factor authentication), which an unattended run cannot give: exempt the service account from MFA or use session_cookie_env", s.c.cfg.Email)
		default:
			return fmt.Errorf("the Stonly page refused the login of %s: %q; check the password in %s", s.c.cfg.Email, st.Alert, s.c.cfg.PasswordEnv)
		}
	})
}

func (s *scrape) inApp(st *pageState) bool {
	u, err := url.Parse(st.URL)
	return err == nil && !st.Login && strings.HasPrefix(u.Path, strings.TrimRight(s.c.base.Path, "/")+s.c.cfg.AppPath)
}

// signOut ends the session on the server at the end of a read, so that
// no live session outlives it (in the browser's profile, in a capture).
// A session cookie given by the operator (session_cookie_env) is theirs:
// signing it out would break the next run, so it is left alone. A failed
// sign-out is a warning: what was read stays true.
func (s *scrape) signOut() {
	if s.c.cookie != "" {
		return
	}
	err := s.step("signing out", func(ctx context.Context) error {
		if clicked, err := action[bool](ctx, "logout"); err != nil || !clicked {
			if err := s.navigate(ctx, s.c.abs(s.c.cfg.LogoutPath)); err != nil {
				return err
			}
		}
		// Signed out: the login page, or any page outside the app.
		_, err := s.poll(ctx, func(st *pageState) (bool, error) { return st.Login || !s.inApp(st), nil })
		return err
	})
	if err != nil {
		s.comp.Warnings = append(s.comp.Warnings, fmt.Sprintf("%s; the session ends when Stonly expires it (set stonly.logout_path if the app signs out elsewhere)", s.c.redact(err.Error())))
	}
}
