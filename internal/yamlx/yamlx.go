// Package yamlx decodes YAML strictly: a key that the Go type does not
// declare is an error naming the file, the line and the key's full path,
// with the nearest known key as a suggestion. The configuration and every
// source decode their subtrees through it, so that all speak alike.
package yamlx

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// CheckKnown reports the first mapping key under node that the Go type t
// does not declare, as "file:line: unknown key a.b.c". Sources use it to
// validate their own subtrees with the same wording.
func CheckKnown(node *yaml.Node, t reflect.Type, path, file string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if node.Kind == yaml.AliasNode && node.Alias != nil {
		node = node.Alias
	}
	switch t.Kind() {
	case reflect.Struct:
		if node.Kind != yaml.MappingNode {
			if node.Kind == yaml.ScalarNode && node.Tag == "!!null" {
				return nil
			}
			return fmt.Errorf("%s:%d: %s must be a mapping of keys to values", file, node.Line, orRoot(path))
		}
		known := fieldTypes(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			ft, ok := known[k.Value]
			full := join(path, k.Value)
			if !ok {
				names := map[string]bool{}
				for n := range known {
					names[n] = true
				}
				return fmt.Errorf("%s:%d: unknown key %q%s", file, k.Line, full, Suggest(k.Value, names))
			}
			if err := CheckKnown(v, ft, full, file); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if node.Kind == yaml.SequenceNode {
			for i, item := range node.Content {
				if err := CheckKnown(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), file); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// DecodeStrict checks node against v's type, then decodes it.
func DecodeStrict(node *yaml.Node, v any, path, file string) error {
	if err := CheckKnown(node, reflect.TypeOf(v), path, file); err != nil {
		return err
	}
	if err := node.Decode(v); err != nil {
		return fmt.Errorf("%s: %s: %v", file, path, err)
	}
	return nil
}

func orRoot(p string) string {
	if p == "" {
		return "the document"
	}
	return p
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func fieldTypes(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "-" || !f.IsExported() {
			continue
		}
		if tag == "" {
			tag = strings.ToLower(f.Name)
		}
		out[tag] = f.Type
	}
	return out
}

func FieldNames(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for n := range fieldTypes(t) {
		out[n] = true
	}
	return out
}

// Suggest proposes a known key close to a misspelt one.
func Suggest(key string, known map[string]bool) string {
	best, bestD := "", 3
	for _, k := range slices.Sorted(maps.Keys(known)) {
		if d := distance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// distance is the Levenshtein distance, for short keys only.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
