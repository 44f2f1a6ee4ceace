package serve_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/idgraph/idgraph/internal/browsertest"
)

// TestReviewInChromium signs in through the form, filters the findings,
// records a decision and sees it on the page, in real Chromium.
func TestReviewInChromium(t *testing.T) {
	browsertest.Path(t) // skip, or fail in CI, before building the fixture
	f := newFixture(t)
	tab := browsertest.Tab(t)
	ctx, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()
	// A sign-in link whose next names another host in a spelling that
	// browsers read as a host (backslash) leaves the browser on idgraph.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(f.http.URL+"/login?next="+url.QueryEscape(`/\evil.example/findings`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "alice@acme.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "alice-password"),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/runs"]`)),
	); err != nil {
		t.Fatal(err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || loc != f.http.URL+"/" {
		t.Fatalf("after signing in with next=/\\evil.example the browser is at %q (%v), want %s/", loc, err, f.http.URL)
	}
	// Sign out (a form post from the page), then: unauthenticated, the
	// findings page sends the browser to sign in.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(f.http.URL+"/"),
		chromedp.Click(chromedp.CSS(`nav form button`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.Navigate(f.http.URL+"/findings"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "alice@acme.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "alice-password"),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#findings`)),
	); err != nil {
		t.Fatal(err)
	}
	// Filter: orphaned only.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`select[name=kind]`), "orphaned"),
		chromedp.Click(chromedp.CSS(`form[aria-label=filters] button`)),
		// The old page has #findings too: wait for its other rows to go.
		chromedp.WaitNotPresent(chromedp.CSS(`#findings tr[data-key^="unassigned/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#findings`)),
	); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#findings`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "bob@acme.com") || strings.Contains(text, "carol@acme.com") {
		t.Fatalf("filter not applied:\n%s", text)
	}
	// Bob, a leaver who is still an Admin, is the critical row. Nothing is
	// preselected: a decision is a choice.
	row := `#findings tr[data-key^="orphaned/stonly/stonly:t-support:bob"]`
	if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(row+` select[name=decision]`))); err != nil || v != "" {
		t.Fatalf("the decision is preselected: %q (%v)", v, err)
	}
	// Keyboard only: focus the decision, type to choose "approve", Tab to
	// the justification, type it and press Enter. No expiry date, so the
	// rules refuse it: the error shows on the row, what was typed and the
	// filter stay.
	if err := chromedp.Do(ctx,
		chromedp.Focus(chromedp.CSS(row+` select[name=decision]`)),
		chromedp.KeyEvent("a"),
		chromedp.KeyEvent("\t"),
		chromedp.KeyEvent("handover until Friday\r"),
		chromedp.WaitVisible(chromedp.CSS(row+` p.err`)),
	); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ sel, want string }{
		{row + ` p.err`, "Not recorded: an approval needs an expiry date"},
	} {
		if got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(c.sel))); err != nil || !strings.Contains(got, c.want) {
			t.Errorf("%s: %q (%v), want %q", c.sel, got, err, c.want)
		}
	}
	for _, c := range []struct{ sel, want string }{
		{row + ` select[name=decision]`, "approve"},
		{row + ` input[name=justification]`, "handover until Friday"},
		{`select[name=kind]`, "orphaned"},
	} {
		if got, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(c.sel))); err != nil || got != c.want {
			t.Errorf("after the refusal %s is %q (%v), want %q", c.sel, got, err, c.want)
		}
	}
	// Still by keyboard: choose revoke, replace the justification, Enter.
	if err := chromedp.Do(ctx,
		chromedp.Focus(chromedp.CSS(row+` select[name=decision]`)),
		chromedp.KeyEvent("r"),
		chromedp.Focus(chromedp.CSS(row+` input[name=justification]`)),
		chromedp.Evaluate[chromedp.Void](`document.activeElement.select()`), // as Ctrl+A would: the typing replaces it
		chromedp.KeyEvent("left in October\r"),
		chromedp.WaitVisible(chromedp.CSS(`p.msg`)),
	); err != nil {
		t.Fatal(err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "kind=orphaned") {
		t.Errorf("the filter was lost: %s", loc)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(row+` td.review`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(status, "revoke pending confirmation") || !strings.Contains(status, "by alice@acme.com") ||
		!strings.Contains(status, "left in October") || !strings.Contains(status, "waits for a second reviewer") {
		t.Fatalf("the pending decision is not on the page: %q", status)
	}
	// Alice cannot be her own second reviewer.
	if err := chromedp.Do(ctx,
		chromedp.Focus(chromedp.CSS(row+` form.confirm button`)),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(row+` p.err`)),
	); err != nil {
		t.Fatal(err)
	}
	if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(row+` p.err`))); !strings.Contains(got, "another person than alice@acme.com") {
		t.Errorf("self-confirmation: %q", got)
	}

	// Dave signs in and starts a decision on Carol's row; his session
	// ends before he submits. Signing in again brings the typed decision
	// back, ready to record.
	carol := `#findings tr[data-key^="unassigned/"]`
	if err := chromedp.Do(ctx,
		chromedp.Navigate(f.http.URL+"/"),
		chromedp.Click(chromedp.CSS(`nav form button`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "dave@acme.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "dave-password"),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/runs"]`)),
		chromedp.Navigate(f.http.URL+"/findings?kind=unassigned"),
		chromedp.WaitVisible(chromedp.CSS(carol)),
		chromedp.Focus(chromedp.CSS(carol+` select[name=decision]`)),
		chromedp.KeyEvent("r"),
		chromedp.Focus(chromedp.CSS(carol+` input[name=justification]`)),
		chromedp.KeyEvent("bypassed Okta"),
	); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.DB().Exec(`DELETE FROM sessions`); err != nil { // the session expires
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "dave@acme.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "dave-password"),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[aria-label=decision]`)),
	); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ sel, want string }{
		{`form[aria-label=decision] select[name=decision]`, "revoke"},
		{`form[aria-label=decision] input[name=justification]`, "bypassed Okta"},
	} {
		if got, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(c.sel))); err != nil || got != c.want {
			t.Errorf("after signing in again %s is %q (%v), want %q", c.sel, got, err, c.want)
		}
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form[aria-label=decision] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#findings`)), // the findings page, not the one before it
		chromedp.WaitVisible(chromedp.CSS(`p.msg`)),
	); err != nil {
		t.Fatal(err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "kind=unassigned") {
		t.Errorf("the filter was lost through the sign-in: %s", loc)
	}
	if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(carol+` .status`))); !strings.Contains(got, "revoke pending") || !strings.Contains(got, "by dave@acme.com") {
		t.Errorf("the kept decision was not recorded: %q", got)
	}

	// Dave confirms Alice's revoke of Bob (keyboard), and the history shows
	// both steps.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(f.http.URL+"/findings?kind=orphaned"),
		chromedp.WaitVisible(chromedp.CSS(row+` form.confirm button`)),
		chromedp.Focus(chromedp.CSS(row+` form.confirm button`)),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`p.msg`)),
	); err != nil {
		t.Fatal(err)
	}
	status, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(row+` .status`)))
	if err != nil || !strings.Contains(status, "revoke pending: revoke by alice@acme.com") || !strings.Contains(status, "confirmed by dave@acme.com") {
		t.Fatalf("after the confirmation: %q (%v)", status, err)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('`+row+` details.history li').length`)); err != nil || n != 1 {
		t.Errorf("history entries %d (%v)", n, err)
	}
}
