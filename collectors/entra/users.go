// users.go holds the users: the properties read, the account built from
// them, and the full read of /users.

package entra

import (
	"context"
	"fmt"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/idgraph/idgraph/collectors"
)

// userState is the part of a Graph user idgraph reads.
type userState struct {
	id, displayName, upn, mail, userType, employeeID string
	otherMails, proxyAddresses                       []string
	enabled                                          *bool
}

func fromModel(u models.Userable) userState {
	return userState{id: str(u.GetId()), displayName: str(u.GetDisplayName()), upn: str(u.GetUserPrincipalName()), mail: str(u.GetMail()),
		userType: str(u.GetUserType()), employeeID: str(u.GetEmployeeId()), otherMails: u.GetOtherMails(), proxyAddresses: u.GetProxyAddresses(),
		enabled: u.GetAccountEnabled()}
}

// fromAccount recovers a user's properties from the account a previous
// run built from them (account is its inverse).
func fromAccount(a *collectors.Account) userState {
	s := userState{id: a.ID, displayName: a.DisplayName, employeeID: a.EmployeeID, userType: "Member"}
	if a.Guest {
		s.userType = "Guest"
	}
	for _, ad := range a.Addresses {
		switch ad.Field {
		case "userPrincipalName":
			s.upn = ad.Value
		case "mail":
			s.mail = ad.Value
		case "otherMails":
			s.otherMails = append(s.otherMails, ad.Value)
		case "proxyAddresses":
			s.proxyAddresses = append(s.proxyAddresses, ad.Value)
		}
	}
	switch a.RawStatus {
	case "enabled":
		s.enabled = ptr(true)
	case "disabled":
		s.enabled = ptr(false)
	}
	return s
}

func ptr[T any](v T) *T { return &v }

func (s userState) account(source string) collectors.Account {
	a := collectors.Account{Source: source, ID: s.id, DisplayName: strings.TrimSpace(s.displayName), EmployeeID: strings.TrimSpace(s.employeeID)}
	upn, mail := strings.TrimSpace(s.upn), strings.TrimSpace(s.mail)
	a.Email = mail
	if a.Email == "" {
		a.Email = upn
	}
	a.Addresses = make([]collectors.Address, 0, 2+len(s.otherMails)+len(s.proxyAddresses))
	if upn != "" {
		a.Addresses = append(a.Addresses, collectors.Address{Field: "userPrincipalName", Value: upn})
	}
	if mail != "" {
		a.Addresses = append(a.Addresses, collectors.Address{Field: "mail", Value: mail})
	}
	for _, m := range s.otherMails {
		a.Addresses = append(a.Addresses, collectors.Address{Field: "otherMails", Value: m})
	}
	for _, p := range s.proxyAddresses {
		a.Addresses = append(a.Addresses, collectors.Address{Field: "proxyAddresses", Value: p})
	}
	switch {
	case s.enabled == nil:
		// Without $select Graph leaves accountEnabled out; never guess.
		a.Status, a.RawStatus = collectors.StatusStaged, "accountEnabled unknown"
	case *s.enabled:
		a.Status, a.RawStatus = collectors.StatusActive, "enabled"
	default:
		a.Status, a.RawStatus = collectors.StatusInactive, "disabled"
	}
	a.Guest = strings.EqualFold(strings.TrimSpace(s.userType), "Guest")
	return a
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(*p)
}

func (r *read) setUser(s userState) {
	if s.id == "" {
		return
	}
	a := s.account(r.c.name)
	r.mu.Lock()
	r.users.put(a)
	r.mu.Unlock()
}

// full reads every user. It asks for a delta link first ($deltatoken=latest)
// so that a change made while the list is read shows up in the next delta,
// never falls between the two.
func (r *read) full(ctx context.Context) error {
	if r.c.Incremental() {
		u := r.c.graphURL.String() + "/users/delta()?$select=" + strings.Join(r.c.deltaFields(), ",") + "&$deltatoken=latest"
		d, err := r.client.Users().Delta().WithUrl(u).GetAsDeltaGetResponse(ctx, r.deltaConfig(false))
		if err != nil {
			return r.c.explain(ctx, err, "/users", "getting a delta link", r.cnt)
		}
		if d.GetOdataDeltaLink() != nil {
			r.deltaLink = *d.GetOdataDeltaLink()
		}
	}
	top := int32(pageSize)
	q := &users.UsersRequestBuilderGetQueryParameters{Select: UserFields, Top: &top}
	managers := r.c.managers()
	if managers {
		q.Expand = []string{managerExpand}
	}
	info, err := r.client.Users().ToGetRequestInformation(ctx, &users.UsersRequestBuilderGetRequestConfiguration{QueryParameters: q})
	if err != nil {
		return err
	}
	list, err := sendJSON[usersPage](ctx, r, info, "page 1 of /users")
	if err != nil {
		return r.c.explain(ctx, err, "/users", "reading users, page 1", r.cnt)
	}
	n := 0
	_, err = walk(ctx, "/users", list, func(ctx context.Context, link string) (*usersPage, error) {
		info, err := r.client.Users().WithUrl(link).ToGetRequestInformation(ctx, nil)
		if err != nil {
			return nil, err
		}
		return sendJSON[usersPage](ctx, r, info, "a page of /users")
	}, func(u graphUser) string { return u.ID }, func(u graphUser) {
		r.setUser(u.state())
		if managers {
			r.mgr.fromExpanded(strings.TrimSpace(u.ID), u.Manager)
		}
		n++
	}, func() { r.progress("users") })
	if err != nil {
		return r.c.explain(ctx, err, "/users", fmt.Sprintf("reading users after %d of them", n), r.cnt)
	}
	r.addPart(collectors.Part{Kind: "list", ID: "users", Name: "Entra users", Records: r.userCount(),
		Fix: "grant User.Read.All (application permission) with admin consent to application " + r.c.cfg.ClientID})
	return nil
}

func (r *read) userCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.users.len()
}
