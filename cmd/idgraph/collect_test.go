package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
)

// TestCollectedIsTheWholeEncoding: the streamed output is byte for byte
// the indented encoding of the whole object, empty or not.
func TestCollectedIsTheWholeEncoding(t *testing.T) {
	info := collectors.Info{Name: "okta", Type: "okta", Kind: collectors.KindIdP, Version: "okta/2"}
	comp := collectors.Completeness{Source: "okta", Kind: collectors.KindIdP, Complete: true, Records: 2, Started: time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC),
		Parts: []collectors.Part{{Kind: "list", ID: "users", Records: 2}}}
	for _, accs := range [][]collectors.Account{{}, {
		{Source: "okta", ID: "00u1", Email: "a@acme.com", Status: collectors.StatusActive, Assignments: []collectors.Assignment{{App: "stonly", InForce: true, Via: []string{"direct"}}}},
		{Source: "okta", ID: "00u2", Email: "b \"q\" <b&c@acme.com>", Status: collectors.StatusInactive, Groups: []string{"A", "B"}},
	}} {
		var got bytes.Buffer
		if err := writeCollected(&got, info, comp, accs); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		enc.Encode(struct {
			Source       collectors.Info         `json:"source"`
			Completeness collectors.Completeness `json:"completeness"`
			Accounts     []collectors.Account    `json:"accounts"`
		}{info, comp, accs})
		if got.String() != want.String() {
			t.Errorf("%d accounts:\n--- streamed ---\n%s\n--- whole ---\n%s", len(accs), got.String(), want.String())
		}
	}
}
