package config

import _ "embed"

// Example is the commented example configuration (example.yaml, beside the
// schema it illustrates) that `idgraph init` writes. A test parses it with
// every registered source, so that it stays valid as keys are added.
//
//go:embed example.yaml
var Example []byte
