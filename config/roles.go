package config

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// decodeRoles reads the roles key: a list of rules (the single-application
// form, kept under "") or a mapping of application names to lists.
func decodeRoles(node *yaml.Node, file string) (map[string][]RoleRule, error) {
	out := map[string][]RoleRule{}
	switch node.Kind {
	case yaml.SequenceNode:
		var rules []RoleRule
		if err := DecodeStrict(node, &rules, "roles", file); err != nil {
			return nil, err
		}
		out[""] = rules
	case yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			if k.Value == "" {
				return nil, errorf("%s:%d: roles: an application name is empty", file, k.Line)
			}
			if v.Kind != yaml.SequenceNode {
				return nil, errorf("%s:%d: roles.%s must be a list of rules, e.g. - {okta_group: Admins, role: Admin}", file, v.Line, k.Value)
			}
			var rules []RoleRule
			if err := DecodeStrict(v, &rules, "roles."+k.Value, file); err != nil {
				return nil, err
			}
			out[k.Value] = rules
		}
	case yaml.ScalarNode:
		if node.Tag == "!!null" {
			return out, nil
		}
		fallthrough
	default:
		return nil, errorf("%s:%d: roles must be a list of rules, or a mapping of application names to lists of rules", file, node.Line)
	}
	return out, nil
}

// validateRules checks the shape of one application's rules; whether each
// role is one of the application's is checked against its ladder when the
// sources are built.
func validateRules(file, app string, rules []RoleRule) error {
	defaults := 0
	section := "roles"
	if app != "" {
		section = "roles." + app
	}
	for i, r := range rules {
		at := fmt.Sprintf("%s: %s[%d]", file, section, i)
		matchers := 0
		for _, m := range []string{r.OktaGroup, r.OktaAppRole, r.EntraAppRole, r.EntraGroup, r.Group, r.AppRole} {
			if m != "" {
				matchers++
			}
		}
		switch {
		case r.Default != "":
			defaults++
			if matchers > 0 || r.Role != "" {
				return errorf("%s: a default rule has only the key default (e.g. {default: Member})", at)
			}
		case matchers != 1:
			return errorf("%s: needs exactly one of okta_group, okta_app_role, entra_app_role, entra_group, group, app_role (found %d)", at, matchers)
		case r.Role == "":
			return errorf("%s: role is required (one of the application's roles)", at)
		}
		if (r.Group != "" || r.AppRole != "") && r.Source == "" {
			return errorf("%s: group and app_role need source (the source's name)", at)
		}
	}
	if defaults > 1 {
		return errorf("%s: %s has %d default rules; keep one", file, section, defaults)
	}
	return nil
}
