// groups.go reads the assigned groups and their members, with a bounded
// pool of workers.

package okta

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
)

// listGroups reads the assigned groups with at most max_concurrency
// workers, and stops handing out groups after the first failure (the read
// is incomplete then, and 150 copies of one error help nobody).
//
// A group assigned to several apps is read once.
func (r *read) listGroups(ctx context.Context, cl *sdk.Client) error {
	var ids []string
	for _, a := range r.apps {
		for _, g := range a.groups {
			if !slices.Contains(ids, g.id) {
				ids = append(ids, g.id)
			}
		}
	}
	jobs := make(chan string)
	var failed atomic.Bool
	var skipped atomic.Int64
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range min(r.c.cfg.MaxConcurrency, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range jobs {
				if failed.Load() || ctx.Err() != nil {
					skipped.Add(1)
					continue
				}
				if err := r.listGroup(ctx, cl, id); err != nil {
					failed.Store(true)
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, id := range ids {
		jobs <- id
	}
	close(jobs)
	wg.Wait()
	if n := skipped.Load(); n > 0 && len(errs) > 0 {
		errs = append(errs, fmt.Errorf("okta: %d more assigned groups were not read", n))
	}
	return errors.Join(errs...)
}

func (r *read) listGroup(ctx context.Context, cl *sdk.Client, id string) error {
	g, _, err := cl.Group.GetGroup(ctx, id)
	if err != nil {
		return r.c.explain(r.tr, err, "/api/v1/groups", "reading assigned group "+id)
	}
	name := id
	if g.Profile != nil && g.Profile.Name != "" {
		name = g.Profile.Name
	}
	stamp := ""
	if g.LastMembershipUpdated != nil {
		stamp = g.LastMembershipUpdated.UTC().Format(time.RFC3339Nano)
	}
	r.mu.Lock()
	r.seen[id] = stamp
	r.mu.Unlock()
	if r.prev != nil && stamp != "" && r.prev.Groups[id] == stamp {
		// Membership unchanged since the last read: reuse it.
		if ids, ok := r.prevMem[name]; ok {
			r.mu.Lock()
			r.names[id], r.members[id] = name, ids
			r.mu.Unlock()
			return nil
		}
	}
	var ids []string
	// Only the members' ids are read: the member list has no
	// okta-response parameter, so its users come whole, credentials and
	// links included (Okta's management API spec, listGroupUsers).
	path := "/api/v1/groups/" + url.PathEscape(id) + "/users?limit=" + itoa(groupUsersPage)
	err = list(ctx, r, cl, path, listing{endpoint: "/api/v1/groups", stage: "members of group " + name}, func(us []struct {
		ID string `json:"id"`
	}) {
		for _, u := range us {
			ids = append(ids, u.ID)
		}
	})
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.names[id], r.members[id] = name, ids
	r.mu.Unlock()
	return nil
}
