// groups.go reads the members of assigned groups, direct and transitive.

package entra

import (
	"context"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
)

// group is an assigned group's membership, read once however many
// applications it is assigned.
type group struct {
	id, name     string
	direct       []string // user ids
	nestedGroups []string // names of groups nested directly in it
	transitive   []string // user ids
}

// memberFields are the properties of a member read: its id, and a nested
// group's name. @odata.type comes whatever $select says.
var memberFields = []string{"id", "displayName"}

func (r *read) readGroup(ctx context.Context, g *group) error {
	top := int32(pageSize)
	gb := r.client.Groups().ByGroupId(g.id)
	err := r.readMembers(ctx, "/groups/"+g.id+"/members", func() (*abstractions.RequestInformation, error) {
		return gb.Members().ToGetRequestInformation(ctx, &groups.ItemMembersRequestBuilderGetRequestConfiguration{
			QueryParameters: &groups.ItemMembersRequestBuilderGetQueryParameters{Select: memberFields, Top: &top}})
	}, func(link string) (*abstractions.RequestInformation, error) {
		return gb.Members().WithUrl(link).ToGetRequestInformation(ctx, nil)
	}, func(m graphMember) {
		switch m.kind() {
		case memberUser:
			g.direct = append(g.direct, strings.TrimSpace(m.ID))
		case memberGroup:
			g.nestedGroups = append(g.nestedGroups, strings.TrimSpace(m.DisplayName))
		}
	})
	if err != nil {
		return r.c.explain(ctx, err, "/groups", "reading members of group "+g.name, r.cnt)
	}
	if len(g.nestedGroups) == 0 {
		// No group nested in it: its transitive members are its direct ones.
		g.transitive = g.direct
		r.progress("group " + g.name)
		return nil
	}
	err = r.readMembers(ctx, "/groups/"+g.id+"/transitiveMembers", func() (*abstractions.RequestInformation, error) {
		return gb.TransitiveMembers().ToGetRequestInformation(ctx, &groups.ItemTransitiveMembersRequestBuilderGetRequestConfiguration{
			QueryParameters: &groups.ItemTransitiveMembersRequestBuilderGetQueryParameters{Select: memberFields, Top: &top}})
	}, func(link string) (*abstractions.RequestInformation, error) {
		return gb.TransitiveMembers().WithUrl(link).ToGetRequestInformation(ctx, nil)
	}, func(m graphMember) {
		if m.kind() == memberUser {
			g.transitive = append(g.transitive, strings.TrimSpace(m.ID))
		}
	})
	if err != nil {
		return r.c.explain(ctx, err, "/groups", "reading nested members of group "+g.name, r.cnt)
	}
	r.progress("group " + g.name)
	return nil
}

// readMembers reads every page of a member list (lean.go): first builds
// the request of its first page, next that of an @odata.nextLink.
func (r *read) readMembers(ctx context.Context, list string, first func() (*abstractions.RequestInformation, error),
	next func(link string) (*abstractions.RequestInformation, error), each func(graphMember)) error {
	info, err := first()
	if err != nil {
		return err
	}
	p, err := sendJSON[membersPage](ctx, r, info, "page 1 of "+list)
	if err != nil {
		return err
	}
	_, err = walk(ctx, list, p, func(ctx context.Context, link string) (*membersPage, error) {
		info, err := next(link)
		if err != nil {
			return nil, err
		}
		return sendJSON[membersPage](ctx, r, info, "a page of "+list)
	}, func(m graphMember) string { return strings.TrimSpace(m.ID) }, each, nil)
	return err
}
