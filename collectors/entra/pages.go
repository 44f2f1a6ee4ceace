package entra

import (
	"context"
	"fmt"
)

// page is one page of a Graph collection as msgraph-sdk-go decodes it.
type page[T any] interface {
	GetValue() []T
	GetOdataNextLink() *string
}

// cycleError is a list whose @odata.nextLink led back to a page already
// read.
type cycleError struct {
	list, link string
	pages      int
	sameItems  bool // a new link, but the page's items had all been read
}

func (e *cycleError) Error() string {
	how := "an @odata.nextLink it had already followed"
	if e.sameItems {
		how = "a page whose items had all been read already (under a new @odata.nextLink)"
	}
	return fmt.Sprintf("Graph's paging of %s went in a circle after %d %s: it returned %s; stopped there, the list is incomplete", e.list, e.pages, plural(int64(e.pages), "page", "pages"), how)
}

// walk reads every page of a list, starting from the first one, and gives
// each item to each. It replaces msgraph-sdk-go-core's PageIterator
// (v1.4.0, page_iterator.go), which follows @odata.nextLink as long as
// there is one, with no check for a link it has followed before and no
// look at ctx between pages: a nextLink that repeats a page ran for 90 s and
// 1,800 requests. walk stops at a link it has already followed, and, when
// key is given (plain lists, where Graph never lists an item twice; not
// delta rounds, which may replay items), at a page whose items were all
// read before. It checks ctx before every page, so a cancelled run or an
// expired deadline stops it at once.
func walk[T any, P page[T]](ctx context.Context, list string, first P, next func(context.Context, string) (P, error),
	key func(T) string, each func(T), onPage func()) (P, error) {
	cur := first
	followed := map[string]bool{}
	var seen map[string]struct{}
	if key != nil {
		seen = map[string]struct{}{}
	}
	for pages := 1; ; pages++ {
		items := cur.GetValue()
		if seen != nil && len(items) > 0 && pages > 1 {
			fresh := false
			for _, it := range items {
				if k := key(it); k == "" {
					fresh = true // nothing to compare by
					break
				} else if _, ok := seen[k]; !ok {
					fresh = true
					break
				}
			}
			if !fresh {
				return cur, &cycleError{list: list, pages: pages - 1, sameItems: true}
			}
		}
		for _, it := range items {
			if seen != nil {
				seen[key(it)] = struct{}{}
			}
			each(it)
		}
		if onPage != nil {
			onPage()
		}
		link := cur.GetOdataNextLink()
		if link == nil || *link == "" {
			return cur, nil
		}
		if followed[*link] {
			return cur, &cycleError{list: list, link: *link, pages: pages}
		}
		followed[*link] = true
		if err := ctx.Err(); err != nil {
			return cur, err
		}
		p, err := next(ctx, *link)
		if err != nil {
			return cur, err
		}
		if any(p) == nil {
			return cur, fmt.Errorf("page %d of %s came back from Graph with no content", pages+1, list)
		}
		cur = p
	}
}
