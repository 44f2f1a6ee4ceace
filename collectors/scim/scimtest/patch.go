// patch.go applies PATCH operations to a user (RFC 7644 §3.5.2): add,
// remove and replace, with a path in attribute notation (§3.10: attr,
// attr.sub, urn:…:attr) or a value filter (attr[sub eq "v"]), or without a
// path, the value then holding the attributes to change.

package scimtest

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

type patchError struct {
	status   int
	scimType string
	detail   string
}

func badPatch(scimType, detail string) *patchError {
	return &patchError{status: http.StatusBadRequest, scimType: scimType, detail: detail}
}

func readPatch(r *http.Request) ([]patchOp, *patchError) {
	b, err := readBody(r)
	if err != nil {
		return nil, badPatch("invalidSyntax", "The body could not be read.")
	}
	var req struct {
		Schemas    []string  `json:"schemas"`
		Operations []patchOp `json:"Operations"`
	}
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, badPatch("invalidSyntax", "The body is not a JSON PatchOp request.")
	}
	if !slices.Contains(req.Schemas, PatchOpURN) {
		return nil, badPatch("invalidSyntax", "schemas must hold "+PatchOpURN+".")
	}
	if len(req.Operations) == 0 {
		return nil, badPatch("invalidSyntax", "Operations is empty.")
	}
	for i := range req.Operations {
		op := &req.Operations[i]
		// Some clients (Entra ID among them) capitalise op; the values are
		// defined in lower case, compared here without case.
		op.Op = strings.ToLower(op.Op)
		switch op.Op {
		case "add", "replace":
			if len(op.Value) == 0 {
				return nil, badPatch("invalidValue", op.Op+" needs a value.")
			}
		case "remove":
			if op.Path == "" {
				// §3.5.2.2: "If "path" is unspecified, the operation fails
				// with HTTP status code 400 and a "scimType" error code of
				// "noTarget"."
				return nil, badPatch("noTarget", "remove needs a path.")
			}
		default:
			return nil, badPatch("invalidSyntax", "op "+op.Op+" is not add, remove or replace.")
		}
	}
	return req.Operations, nil
}

// The User attributes of RFC 7643 §4.1 a client may write, and those of
// them that are multi-valued. id, meta and groups are read-only.
var (
	userAttrs = []string{"externalId", "userName", "name", "displayName", "nickName", "profileUrl", "title", "userType",
		"preferredLanguage", "locale", "timezone", "active", "password", "emails", "phoneNumbers", "ims", "photos",
		"addresses", "entitlements", "roles", "x509Certificates"}
	multiValued = []string{"emails", "phoneNumbers", "ims", "photos", "addresses", "entitlements", "roles", "x509Certificates"}
	valueFilter = regexp.MustCompile(`^([A-Za-z]\w*)\[\s*(\w+)\s+eq\s+"([^"]*)"\s*\](?:\.(\w+))?$`)
)

// target is where a path points: the container (the resource or an
// extension's object), the attribute, an optional sub-attribute and an
// optional value filter.
type target struct {
	ext        string // "" for the core schema
	attr, sub  string
	fAttr, fEq string // filter: [fAttr eq "fEq"]
	filtered   bool
}

func parsePath(path string, extensions []string) (target, *patchError) {
	var t target
	rest := path
	if strings.HasPrefix(strings.ToLower(path), "urn:") {
		schemas := append([]string{UserSchema}, extensions...)
		found := false
		for _, urn := range schemas {
			if strings.HasPrefix(strings.ToLower(path), strings.ToLower(urn)+":") {
				if urn != UserSchema {
					t.ext = urn
				}
				rest = path[len(urn)+1:]
				found = true
				break
			}
		}
		if !found {
			return t, badPatch("invalidPath", "The path "+path+" names a schema the resource does not have.")
		}
	}
	if m := valueFilter.FindStringSubmatch(rest); m != nil {
		t.attr, t.fAttr, t.fEq, t.sub, t.filtered = m[1], m[2], m[3], m[4], true
	} else {
		t.attr, t.sub, _ = strings.Cut(rest, ".")
	}
	if t.attr == "" {
		return t, badPatch("invalidPath", "The path "+path+" names no attribute.")
	}
	if t.ext == "" {
		switch t.attr {
		case "id", "meta", "groups", "schemas":
			return t, badPatch("mutability", t.attr+" is read-only.")
		}
		if !slices.Contains(userAttrs, t.attr) {
			return t, badPatch("invalidPath", "User has no attribute "+t.attr+".")
		}
	}
	if t.filtered && (t.ext != "" || !slices.Contains(multiValued, t.attr)) {
		return t, badPatch("invalidFilter", "A value filter applies to a multi-valued attribute only.")
	}
	return t, nil
}

func applyOp(attrs map[string]any, op patchOp, extensions []string) *patchError {
	var value any
	if len(op.Value) > 0 {
		if err := json.Unmarshal(op.Value, &value); err != nil {
			return badPatch("invalidValue", "The value is not JSON.")
		}
	}
	if op.Path == "" {
		// §3.5.2.1/§3.5.2.3: without a path the value holds the attributes
		// (and extension objects) to add or replace.
		m, ok := value.(map[string]any)
		if !ok {
			return badPatch("invalidValue", "Without a path the value must be an object of attributes.")
		}
		for k, v := range m {
			if slices.Contains(extensions, k) {
				ext, _ := v.(map[string]any)
				for ek, ev := range ext {
					if err := setAt(attrs, op.Op, target{ext: k, attr: ek}, ev); err != nil {
						return err
					}
				}
				continue
			}
			t, err := parsePath(k, extensions)
			if err != nil {
				return err
			}
			if err := setAt(attrs, op.Op, t, v); err != nil {
				return err
			}
		}
		return nil
	}
	t, err := parsePath(op.Path, extensions)
	if err != nil {
		return err
	}
	if op.Op == "remove" {
		return removeAt(attrs, t)
	}
	return setAt(attrs, op.Op, t, value)
}

func container(attrs map[string]any, ext string, create bool) map[string]any {
	if ext == "" {
		return attrs
	}
	c, ok := attrs[ext].(map[string]any)
	if !ok && create {
		c = map[string]any{}
		attrs[ext] = c
	}
	return c
}

func checkValue(t target, v any) *patchError {
	switch {
	case t.ext == "" && t.attr == "active" && t.sub == "":
		if _, ok := v.(bool); !ok {
			return badPatch("invalidValue", "active must be true or false.")
		}
	case t.ext == "" && t.attr == "userName" && t.sub == "":
		if s, ok := v.(string); !ok || s == "" {
			return badPatch("invalidValue", "userName must be a non-empty string.")
		}
	}
	return nil
}

func setAt(attrs map[string]any, op string, t target, v any) *patchError {
	if err := checkValue(t, v); err != nil {
		return err
	}
	c := container(attrs, t.ext, true)
	multi := t.ext == "" && slices.Contains(multiValued, t.attr)
	if t.filtered {
		list, _ := c[t.attr].([]any)
		hit := false
		for i, e := range list {
			m, ok := e.(map[string]any)
			if !ok || str(m[t.fAttr]) != t.fEq {
				continue
			}
			hit = true
			if t.sub != "" {
				m[t.sub] = v
			} else {
				list[i] = v
			}
		}
		if !hit {
			// §3.5.2.3: a filter that matches nothing fails with noTarget.
			return badPatch("noTarget", "No value of "+t.attr+" matches the filter.")
		}
		return nil
	}
	if t.sub != "" {
		if multi {
			return badPatch("invalidPath", "A sub-attribute of "+t.attr+" needs a value filter.")
		}
		sub, ok := c[t.attr].(map[string]any)
		if !ok {
			sub = map[string]any{}
			c[t.attr] = sub
		}
		sub[t.sub] = v
		return nil
	}
	if multi {
		vals, ok := v.([]any)
		if !ok {
			vals = []any{v}
		}
		if op == "add" {
			// §3.5.2.1: values are added to the existing ones.
			have, _ := c[t.attr].([]any)
			for _, nv := range vals {
				if !slices.ContainsFunc(have, func(h any) bool { return sameValue(h, nv) }) {
					have = append(have, nv)
				}
			}
			vals = have
		}
		// §3.5.2.3: replacing a multi-valued attribute without a filter
		// replaces all of its values.
		c[t.attr] = vals
		return nil
	}
	c[t.attr] = v
	return nil
}

func sameValue(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		return am["value"] == bm["value"]
	}
	return a == b
}

func removeAt(attrs map[string]any, t target) *patchError {
	c := container(attrs, t.ext, false)
	if c == nil {
		return nil
	}
	if t.filtered {
		list, _ := c[t.attr].([]any)
		var keep []any
		for _, e := range list {
			m, ok := e.(map[string]any)
			if ok && str(m[t.fAttr]) == t.fEq {
				if t.sub != "" {
					delete(m, t.sub)
					keep = append(keep, m)
				}
				continue
			}
			keep = append(keep, e)
		}
		c[t.attr] = keep
		return nil
	}
	if t.sub != "" {
		if sub, ok := c[t.attr].(map[string]any); ok {
			delete(sub, t.sub)
		}
		return nil
	}
	if t.ext == "" && t.attr == "userName" {
		return badPatch("mutability", "userName is required and cannot be removed.")
	}
	delete(c, t.attr)
	return nil
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = deepCopy(e)
		}
		return l
	}
	return v
}
