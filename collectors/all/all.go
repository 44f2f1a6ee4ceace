// Package all registers every built-in source. Import it for its side
// effect, the way programs import database/sql drivers.
package all

import (
	_ "github.com/idgraph/idgraph/collectors/csvfile" // CSV exports
	_ "github.com/idgraph/idgraph/collectors/entra"   // Microsoft Entra ID, msgraph-sdk-go
	_ "github.com/idgraph/idgraph/collectors/okta"    // Okta, official SDK
	_ "github.com/idgraph/idgraph/collectors/scim"    // SCIM 2.0 applications
	_ "github.com/idgraph/idgraph/collectors/stonly"  // Stonly, headless Chromium
)
