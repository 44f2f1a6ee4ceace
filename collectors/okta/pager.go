// pager.go holds the one pager every list goes through: Okta's Link
// rel="next" followed to the end, with the page sizes asked for, cycle
// detection and page accounting.

package okta

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

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

// listing says what a list is, for its messages: the endpoint family
// (as messages and scopes name it), the stage (progress and errors: "the
// app's users"), and the application it belongs to, if any.
type listing struct {
	endpoint, stage string
	app             *appRef
}

// list reads path (its query included) from its first page to its last by
// Okta's Link: rel="next", decoding each page into []T and handing it to
// add. The request goes through the SDK's request executor, so that the
// SDK's authentication, request building and 429 handling apply (and the
// transport's pacing, retries and accounting under it); only the decoding
// is idgraph's: T holds the fields idgraph reads, not the SDK's models.
//
// It stops when a next page is one already read: a cursor that does not
// advance would otherwise repeat the same page for as long as the run
// lasts (a 90 s read of 1,800 requests was seen).
func list[T any](ctx context.Context, r *read, cl *sdk.Client, path string, l listing, add func([]T)) error {
	rq := cl.CloneRequestExecutor()
	var items []T
	req, err := rq.WithAccept("application/json").WithContentType("application/json").NewRequest("GET", path, nil)
	var resp *sdk.Response
	if err == nil {
		resp, err = rq.Do(ctx, req, &items)
	}
	seen := map[string]bool{}
	for pageNo := 1; ; pageNo++ {
		if err != nil {
			return r.c.explainList(r.tr, err, l, fmt.Sprintf("reading %s, page %d", l.stage, pageNo))
		}
		add(items)
		r.page(l.stage)
		if !resp.HasNextPage() {
			return nil
		}
		if pageNo == 1 {
			seen[cursor(resp.Self)] = true
		}
		next := cursor(resp.NextPage)
		if seen[next] {
			return &Error{Class: ClassData, What: fmt.Sprintf("reading %s, page %d", l.stage, pageNo+1),
				Msg: fmt.Sprintf("Okta's Link: next of %s leads to a page already read (%s; X-Okta-Request-Id %s): the read stopped there and the list is incomplete",
					l.endpoint, next, resp.Header.Get("X-Okta-Request-Id")),
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

func itoa(n int) string { return strconv.Itoa(n) }

// cursor is what identifies a page: its after cursor, or its whole URL.
func cursor(link string) string {
	if u, err := url.Parse(link); err == nil {
		if a := u.Query().Get("after"); a != "" {
			return u.Path + " after=" + a
		}
	}
	return link
}
