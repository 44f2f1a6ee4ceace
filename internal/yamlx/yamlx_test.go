package yamlx

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type inner struct {
	Name string `yaml:"name"`
}

type doc struct {
	Store string  `yaml:"store"`
	Items []inner `yaml:"items"`
	Sub   inner   `yaml:"sub"`
}

func TestDecodeStrict(t *testing.T) {
	tests := []struct{ in, want string }{
		{"store: a\n", ""},
		{"stoer: a\n", `f.yaml:1: unknown key "stoer" (did you mean "store"?)`},
		{"items:\n  - {nmae: x}\n", `f.yaml:2: unknown key "items[0].nmae" (did you mean "name"?)`},
		{"sub:\n  zzzzzz: 1\n", `f.yaml:2: unknown key "sub.zzzzzz"`},
		{"sub: 5\n", "sub must be a mapping"},
		{"store: [1]\n", "f.yaml: : yaml: unmarshal errors"},
	}
	for _, tt := range tests {
		var n yaml.Node
		err := yaml.Unmarshal([]byte(tt.in), &n)
		if err == nil {
			var d doc
			err = DecodeStrict(n.Content[0], &d, "", "f.yaml")
		}
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v", tt.in, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q: got %v, want %q", tt.in, err, tt.want)
		}
	}
}
