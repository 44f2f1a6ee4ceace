package stonly

import (
	"strings"
	"testing"

	"github.com/idgraph/idgraph/collectors"
)

// FuzzRow feeds arbitrary headers and cells, as a changed or hostile page
// could show them, to the row parser: it must never panic, and every row
// it accepts must carry an address and a normalised id.
func FuzzRow(f *testing.F) {
	f.Add("Name|Email|Role", "Ann|ann@acme.com|Admin")
	f.Add("Role|E-mail|Last activity", "Owner|x@y.z|2026-01-01T00:00:00Z")
	f.Add("Email|Role", "<script>|=cmd")
	f.Add("EMAIL|ROLE|", "a@b|\u202eAdmin|")
	f.Fuzz(func(t *testing.T, headers, cells string) {
		idx := headerIndex(strings.Split(headers, "|"))
		var r []cell
		for _, c := range strings.Split(cells, "|") {
			r = append(r, cell{T: c, D: c})
		}
		s := &scrape{comp: &collectors.Completeness{}}
		a, err := s.row(r, idx, teamRef{ID: "t"}, collectors.StatusActive)
		if err != nil {
			return
		}
		if !strings.Contains(a.Email, "@") || a.ID != strings.ToLower(a.Email) || a.Team != "t" {
			t.Fatalf("accepted a bad row: %+v", a)
		}
	})
}
