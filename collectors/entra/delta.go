// delta.go holds the incremental read: the state kept between runs,
// whether a stored delta link is usable, users/delta() rounds merged into
// the previous users, and resynchronisation.

package entra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/idgraph/idgraph/collectors"
)

// state is what the collector keeps between runs.
type state struct {
	DeltaLink string `json:"delta_link"`
	// Manager says the delta link tracks the manager relationship (it was
	// asked for with manager in $select; managers.go).
	Manager bool `json:"manager,omitempty"`
}

// maxLookups bounds the users a delta round names without enough
// properties to stand on their own that are read one by one; beyond it a
// full read is cheaper.
const maxLookups = 50

// resyncError says why a stored delta link cannot be used: the users must
// be read in full instead.
type resyncError struct{ why string }

func (e *resyncError) Error() string { return e.why }

func (r *read) readUsers(ctx context.Context) error {
	if prev := r.req.Previous; prev != nil && prev.State != "" && !r.req.Full && r.c.Incremental() {
		var st state
		if json.Unmarshal([]byte(prev.State), &st) == nil && st.DeltaLink != "" {
			err := r.deltaUsable(prev, st.DeltaLink)
			if err == nil && r.c.managers() && !st.Manager {
				err = &resyncError{"the stored delta link does not track managers (it was made before idgraph read them, or with managers: false)"}
			}
			if err == nil {
				err = r.delta(ctx, prev, st.DeltaLink)
				if err == nil {
					return nil
				}
			}
			var rs *resyncError
			if !errors.As(err, &rs) {
				return err
			}
			r.req.Log().Warn(r.c.name+": the stored Graph delta link cannot be used; reading every user in full in this run", "why", rs.why)
			r.mu.Lock()
			r.comp.Warnings = append(r.comp.Warnings, "users read in full: "+rs.why)
			r.comp.Mode = "full"
			r.users = newUserSet(len(prev.Accounts))
			r.mgr = newManagerOf()
			r.mu.Unlock()
		}
	}
	return r.full(ctx)
}

// deltaUsable checks a stored delta link before it is used: it must name
// the configured graph_url (a link from another host or API version would
// go without a token, or read another service), and the previous snapshot
// must hold the users the changes apply to.
func (r *read) deltaUsable(prev *collectors.Previous, link string) error {
	u, err := url.Parse(link)
	base := r.c.graphURL
	if err != nil || !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) || !strings.HasPrefix(u.Path, base.Path+"/users/") {
		shown := link
		if err == nil {
			shown = u.Scheme + "://" + u.Host + u.Path
		}
		return &resyncError{fmt.Sprintf("the stored delta link (%s) does not belong to the configured graph_url %s", shown, base)}
	}
	if len(prev.Accounts) == 0 {
		return &resyncError{"the previous snapshot holds no Entra users to apply changes to"}
	}
	return nil
}

// isResync tells whether Graph refused a delta link in a way that asks for
// a full synchronisation. The delta query overview: "410 (gone) and a
// Location header containing a request URL with an empty $deltaToken ...
// the application must restart with a full synchronization" (no body: the
// SDK gives an ApiError, not an ODataError); an expired token answers "a
// 40X-series error with error codes such as syncStateNotFound"; the error
// reference adds resyncRequired ("the delta token is no longer valid, and
// the app must reset the sync state"). Any 400 on a link Graph itself
// issued means it no longer accepts it, which a full read also cures.
func isResync(err error) (string, bool) {
	var oe *odataerrors.ODataError
	var ae *abstractions.ApiError
	switch {
	case errors.As(err, &oe):
		codes := odataCodes(oe)
		for _, c := range codes {
			if c == "syncStateNotFound" || c == "resyncRequired" || strings.HasPrefix(c, "resync") || c == "syncStateInvalid" {
				return fmt.Sprintf("Graph answered %d %s: the delta token has expired or is no longer valid", oe.ResponseStatusCode, odataCode(oe)), true
			}
		}
		if oe.ResponseStatusCode == http.StatusGone || oe.ResponseStatusCode == http.StatusBadRequest {
			return fmt.Sprintf("Graph answered %d %s to the stored delta link", oe.ResponseStatusCode, odataCode(oe)), true
		}
	case errors.As(err, &ae) && ae.ResponseStatusCode == http.StatusGone:
		return "Graph answered 410 Gone to the stored delta link (a synchronization reset: Graph asks for a full read)", true
	}
	return "", false
}

func (r *read) deltaConfig(minimal bool) *users.DeltaRequestBuilderGetRequestConfiguration {
	h := abstractions.NewRequestHeaders()
	h.Add("Prefer", "odata.maxpagesize=999")
	if minimal {
		// "user: delta": with return=minimal a tracked round carries only
		// the properties that changed, which moves far fewer bytes; the
		// merge below needs no more.
		h.Add("Prefer", "return=minimal")
	}
	return &users.DeltaRequestBuilderGetRequestConfiguration{Headers: h, QueryParameters: &users.DeltaRequestBuilderGetQueryParameters{Select: r.c.deltaFields()}}
}

// delta applies the changes since the last run to its users. An item of
// a tracked round is merged into that user's previous state: Graph
// represents an updated user "by their id with at least the properties
// that have been updated" (delta query overview), and with return=minimal
// by those only, a property cleared coming as null ("user: delta"). So a
// property absent from the item keeps its previous value, one present
// (null included) replaces it. "@removed" with reason "changed" (deleted,
// restorable from deleted items) or "deleted" (permanently) both take the
// user out of the list, as a full read of /users would.
func (r *read) delta(ctx context.Context, prev *collectors.Previous, link string) error {
	r.comp.Mode = "delta"
	r.mu.Lock()
	r.users = newUserSet(len(prev.Accounts) + len(prev.Accounts)/50)
	for _, a := range prev.Accounts {
		a.Assignments, a.Groups, a.NestedGroups = nil, nil, nil
		r.users.put(a)
	}
	r.mu.Unlock()
	if r.c.managers() {
		r.mgr.fromPrevious(prev.Accounts)
	}
	get := func(ctx context.Context, link string) (*deltaPage, error) {
		info, err := r.client.Users().Delta().WithUrl(link).ToGetRequestInformation(ctx, r.deltaConfig(true))
		if err != nil {
			return nil, err
		}
		return sendJSON[deltaPage](ctx, r, info, "a delta page")
	}
	first, err := get(ctx, link)
	if err == nil {
		var changed, removedSoft, removedHard int
		var lookups []string
		var last *deltaPage
		last, err = walk(ctx, "/users/delta()", first, get, nil, func(u deltaUser) {
			changed++
			id := strings.TrimSpace(u.ID)
			if id == "" {
				return
			}
			if reason, ok := u.removed(); ok {
				if reason == "changed" {
					removedSoft++
				} else {
					removedHard++
				}
				r.mu.Lock()
				r.users.remove(id)
				r.mu.Unlock()
				r.mgr.drop(id)
				return
			}
			r.mu.Lock()
			base, known := userState{id: id}, false
			if p := r.users.get(id); p != nil {
				base, known = fromAccount(p), true
			}
			r.mu.Unlock()
			if !known && !u.whole() {
				// A user this snapshot does not know, named without the
				// properties that say who and whether active: read it.
				if !slices.Contains(lookups, id) {
					lookups = append(lookups, id)
				}
				return
			}
			r.setUser(u.merge(base))
			if u.ManagerDelta.set && r.c.managers() {
				r.mgr.fromDelta(id, u.ManagerDelta.v)
			}
		}, func() { r.progress("user changes") })
		if err == nil {
			if last.Delta == nil {
				return &Error{Class: ClassService, What: "reading user changes", Msg: "the delta round ended without an @odata.deltaLink"}
			}
			if err = r.lookup(ctx, lookups); err != nil {
				return err
			}
			r.deltaLink = *last.Delta
			r.req.Log().Info(r.c.name+": applied user changes from Graph delta", "items", changed, "deleted_restorable", removedSoft,
				"deleted_permanently", removedHard, "read_one_by_one", len(lookups))
			r.addPart(collectors.Part{Kind: "list", ID: "users", Name: "Entra users", Records: r.userCount(),
				Fix: "grant User.Read.All (application permission) with admin consent to application " + r.c.cfg.ClientID})
			return nil
		}
	}
	if why, ok := isResync(err); ok {
		return &resyncError{why}
	}
	return r.c.explain(ctx, err, "/users", "reading user changes", r.cnt)
}

// lookup reads, one by one, users a delta round named without enough
// properties, or falls back to a full read when they are many.
func (r *read) lookup(ctx context.Context, ids []string) error {
	if len(ids) > maxLookups {
		return &resyncError{fmt.Sprintf("the delta round named %d users unknown to the previous snapshot without their properties", len(ids))}
	}
	for _, id := range ids {
		q := &users.UserItemRequestBuilderGetQueryParameters{Select: UserFields}
		if r.c.managers() {
			q.Expand = []string{managerExpand}
		}
		u, err := r.client.Users().ByUserId(id).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{QueryParameters: q})
		if err != nil {
			var oe *odataerrors.ODataError
			if errors.As(err, &oe) && oe.ResponseStatusCode == http.StatusNotFound {
				continue // gone again meanwhile
			}
			return r.c.explain(ctx, err, "/users", "reading changed user "+id, r.cnt)
		}
		r.setUser(fromModel(u))
		if r.c.managers() {
			r.mgr.fromModel(id, u)
		}
	}
	return nil
}

// deltaPage is a page of users/delta(), decoded lean (lean.go) into
// deltaUsers, which remember which properties the item carried:
// msgraph-sdk-go's models.User cannot tell a property Graph left out from
// one it sent as null (its deserialisers skip nulls), and a delta merge
// must.
type deltaPage struct {
	Value []deltaUser `json:"value"`
	Next  *string     `json:"@odata.nextLink"`
	Delta *string     `json:"@odata.deltaLink"`
}

func (p *deltaPage) GetValue() []deltaUser     { return p.Value }
func (p *deltaPage) GetOdataNextLink() *string { return p.Next }

// deltaUser is one item of a delta round: the properties it carried
// (present, null included) and their values, and "@removed".
type deltaUser struct {
	ID                string          `json:"id"`
	DisplayName       opt[string]     `json:"displayName"`
	UserPrincipalName opt[string]     `json:"userPrincipalName"`
	Mail              opt[string]     `json:"mail"`
	UserType          opt[string]     `json:"userType"`
	EmployeeID        opt[string]     `json:"employeeId"`
	OtherMails        opt[[]string]   `json:"otherMails"`
	ProxyAddresses    opt[[]string]   `json:"proxyAddresses"`
	AccountEnabled    opt[*bool]      `json:"accountEnabled"`
	ManagerDelta      opt[[]graphRef] `json:"manager@delta"`
	Removed           *map[string]any `json:"@removed"`
}

// removed reports the item's "@removed" annotation and its reason.
func (u *deltaUser) removed() (string, bool) {
	if u.Removed == nil {
		return "", false
	}
	reason := "deleted"
	if r, ok := (*u.Removed)["reason"].(string); ok && r != "" {
		reason = r
	}
	return reason, true
}

// whole says whether the item alone says who the user is and whether the
// account is enabled (a user created since the last round comes "in its
// standard representation").
func (u *deltaUser) whole() bool { return u.UserPrincipalName.set && u.AccountEnabled.set }

// merge applies the properties the item carried to the user's previous
// state.
func (u *deltaUser) merge(s userState) userState {
	set := func(dst *string, o opt[string]) {
		if o.set {
			*dst = strings.TrimSpace(o.v)
		}
	}
	set(&s.displayName, u.DisplayName)
	set(&s.upn, u.UserPrincipalName)
	set(&s.mail, u.Mail)
	set(&s.userType, u.UserType)
	set(&s.employeeID, u.EmployeeID)
	if u.OtherMails.set {
		s.otherMails = u.OtherMails.v
	}
	if u.ProxyAddresses.set {
		s.proxyAddresses = u.ProxyAddresses.v
	}
	if u.AccountEnabled.set {
		s.enabled = u.AccountEnabled.v
	}
	return s
}
