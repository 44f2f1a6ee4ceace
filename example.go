// Package idgraph holds what belongs to the project as a whole: the
// commented example configuration that `idgraph init` writes. The program
// itself lives in cmd/idgraph and the packages beside this file.
package idgraph

import _ "embed"

// ExampleConfig is idgraph.example.yaml.
//
//go:embed idgraph.example.yaml
var ExampleConfig []byte
