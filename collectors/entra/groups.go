// groups.go reads the members of assigned groups, direct and transitive.

package entra

import (
	"context"

	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// group is an assigned group's membership, read once however many
// applications it is assigned.
type group struct {
	id, name     string
	direct       []string // user ids
	nestedGroups []string // names of groups nested directly in it
	transitive   []string // user ids
}

func (r *read) readGroup(ctx context.Context, g *group) error {
	top := int32(pageSize)
	sel := []string{"id", "displayName"}
	gb := r.client.Groups().ByGroupId(g.id)
	direct, err := gb.Members().Get(ctx, &groups.ItemMembersRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.ItemMembersRequestBuilderGetQueryParameters{Select: sel, Top: &top}})
	if err != nil {
		return r.c.explain(ctx, err, "/groups", "reading members of group "+g.name, r.cnt)
	}
	if err := r.iterateMembers(ctx, "/groups/"+g.id+"/members", direct, func(ctx context.Context, link string) (models.DirectoryObjectCollectionResponseable, error) {
		return gb.Members().WithUrl(link).Get(ctx, nil)
	}, func(o models.DirectoryObjectable) {
		switch m := o.(type) {
		case models.Userable:
			g.direct = append(g.direct, str(m.GetId()))
		case models.Groupable:
			g.nestedGroups = append(g.nestedGroups, str(m.GetDisplayName()))
		}
	}); err != nil {
		return r.c.explain(ctx, err, "/groups", "reading members of group "+g.name, r.cnt)
	}
	if len(g.nestedGroups) == 0 {
		// No group nested in it: its transitive members are its direct ones.
		g.transitive = g.direct
		r.progress("group " + g.name)
		return nil
	}
	tr, err := gb.TransitiveMembers().Get(ctx, &groups.ItemTransitiveMembersRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.ItemTransitiveMembersRequestBuilderGetQueryParameters{Select: sel, Top: &top}})
	if err != nil {
		return r.c.explain(ctx, err, "/groups", "reading nested members of group "+g.name, r.cnt)
	}
	if err := r.iterateMembers(ctx, "/groups/"+g.id+"/transitiveMembers", tr, func(ctx context.Context, link string) (models.DirectoryObjectCollectionResponseable, error) {
		return gb.TransitiveMembers().WithUrl(link).Get(ctx, nil)
	}, func(o models.DirectoryObjectable) {
		if m, ok := o.(models.Userable); ok {
			g.transitive = append(g.transitive, str(m.GetId()))
		}
	}); err != nil {
		return r.c.explain(ctx, err, "/groups", "reading nested members of group "+g.name, r.cnt)
	}
	r.progress("group " + g.name)
	return nil
}

func (r *read) iterateMembers(ctx context.Context, list string, first models.DirectoryObjectCollectionResponseable,
	next func(context.Context, string) (models.DirectoryObjectCollectionResponseable, error), f func(models.DirectoryObjectable)) error {
	_, err := walk(ctx, list, first, next, func(o models.DirectoryObjectable) string { return str(o.GetId()) }, f, nil)
	return err
}
