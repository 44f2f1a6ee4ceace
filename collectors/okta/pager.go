// pager.go holds the one pager every list goes through: Okta's Link
// rel="next" followed to the end, with the page sizes asked for, cycle
// detection and page accounting.

package okta

import (
	"context"
	"fmt"
	"net/url"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
)

// Page sizes: the largest each endpoint allows, always asked for
// explicitly. Okta says of listGroupUsers that its default limit "is set
// to a very high number due to historical reasons ... This will change in
// a future version of this API": an explicit limit keeps the read the
// same when it does (a 500 on a large page is retried with a smaller one).
const (
	usersPage      = 200
	appUsersPage   = 500
	appGroupsPage  = 200
	groupUsersPage = 1000
)

// pages reads a list from its first page to its last by Okta's Link:
// next, stopping when a next page is one already read: a cursor that does
// not advance would otherwise repeat the same page for as long as the run
// lasts (a 90 s read of 1,800 requests was seen).
func pages[T any](ctx context.Context, r *read, endpoint, stage string, first func() ([]T, *sdk.Response, error), add func([]T)) error {
	items, resp, err := first()
	seen := map[string]bool{}
	for pageNo := 1; ; pageNo++ {
		if err != nil {
			return r.c.explain(r.tr, err, endpoint, fmt.Sprintf("reading %s, page %d", stage, pageNo))
		}
		add(items)
		r.page(stage)
		if !resp.HasNextPage() {
			return nil
		}
		if pageNo == 1 {
			seen[cursor(resp.Self)] = true
		}
		next := cursor(resp.NextPage)
		if seen[next] {
			return &Error{Class: ClassData, What: fmt.Sprintf("reading %s, page %d", stage, pageNo+1),
				Msg: fmt.Sprintf("Okta's Link: next of %s leads to a page already read (%s; X-Okta-Request-Id %s): the read stopped there and the list is incomplete",
					endpoint, next, resp.Header.Get("X-Okta-Request-Id")),
				Fix: "a fault on Okta's side or in a proxy between: try again later, and report the request id to Okta support if it persists"}
		}
		seen[next] = true
		if err := ctx.Err(); err != nil {
			return err
		}
		items = nil
		resp, err = resp.Next(ctx, &items)
	}
}

// cursor is what identifies a page: its after cursor, or its whole URL.
func cursor(link string) string {
	if u, err := url.Parse(link); err == nil {
		if a := u.Query().Get("after"); a != "" {
			return u.Path + " after=" + a
		}
	}
	return link
}
