// scenario.go holds the data the simulator serves: the Scenario (one
// application's SCIM service provider) and its users and groups, shaped as
// RFC 7643 defines them.

package scimtest

// The schema URNs of RFC 7643 and the message URNs of RFC 7644 the
// simulator speaks.
const (
	UserSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"                  // RFC 7643 §4.1
	GroupSchema      = "urn:ietf:params:scim:schemas:core:2.0:Group"                 // RFC 7643 §4.2
	EnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"  // RFC 7643 §4.3
	SPCSchema        = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig" // RFC 7643 §5
	ListResponseURN  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"          // RFC 7644 §3.4.2
	PatchOpURN       = "urn:ietf:params:scim:api:messages:2.0:PatchOp"               // RFC 7644 §3.5.2
	ErrorURN         = "urn:ietf:params:scim:api:messages:2.0:Error"                 // RFC 7644 §3.12
)

// User is a SCIM User resource (RFC 7643 §4.1). Its JSON is the
// resource's, without the attributes the server owns (schemas, meta, and
// groups, which RFC 7643 §4.1.2 makes read-only: membership changes go
// through the Group resource).
type User struct {
	ID           string       `json:"id"`
	ExternalID   string       `json:"externalId,omitempty"`
	UserName     string       `json:"userName"`
	Name         *Name        `json:"name,omitempty"`
	DisplayName  string       `json:"displayName,omitempty"`
	Title        string       `json:"title,omitempty"`
	UserType     string       `json:"userType,omitempty"`
	Active       bool         `json:"active"`
	Emails       []MultiValue `json:"emails,omitempty"`
	Roles        []MultiValue `json:"roles,omitempty"`
	Entitlements []MultiValue `json:"entitlements,omitempty"`
	Enterprise   *Enterprise  `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,omitempty"`
	// Groups are the display names of the groups the user is a direct
	// member of. The server renders them as the read-only groups attribute
	// ({value, $ref, display, type: direct}).
	Groups []string `json:"-"`
}

// Name is the complex name attribute (RFC 7643 §4.1.1).
type Name struct {
	Formatted  string `json:"formatted,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
	GivenName  string `json:"givenName,omitempty"`
}

// MultiValue is one value of a multi-valued attribute (RFC 7643 §2.4):
// emails, roles, entitlements.
type MultiValue struct {
	Value   string `json:"value"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// Enterprise is the Enterprise User extension (RFC 7643 §4.3). Extra holds
// attributes an application adds there; they are served as written.
type Enterprise struct {
	EmployeeNumber string   `json:"employeeNumber,omitempty"`
	CostCenter     string   `json:"costCenter,omitempty"`
	Organization   string   `json:"organization,omitempty"`
	Division       string   `json:"division,omitempty"`
	Department     string   `json:"department,omitempty"`
	Manager        *Manager `json:"manager,omitempty"`
}

// Manager is the enterprise extension's manager (RFC 7643 §4.3).
type Manager struct {
	Value       string `json:"value,omitempty"` // the manager's SCIM id
	DisplayName string `json:"displayName,omitempty"`
}

// Scenario is the service provider the simulator serves.
type Scenario struct {
	// Token is the bearer token it accepts (RFC 7644 §2: "Authentication
	// and Authorization"; RFC 6750). Default "scim-test-token".
	Token string
	Users []User
	// Groups names groups that exist without members; every group a user
	// names exists too.
	Groups []string
	// MaxResults is what ServiceProviderConfig advertises as
	// filter.maxResults (RFC 7643 §5) and the most resources a page holds.
	// Default 100.
	MaxResults int
	// NoPatch advertises patch.supported false and answers PATCH with 501.
	NoPatch bool
	// PatchNoContent answers a successful PATCH with 204 and no body,
	// which RFC 7644 §3.5.2 allows instead of 200 with the resource.
	PatchNoContent bool
	// Me is the id of the user the token belongs to, served at /Me (RFC
	// 7644 §3.11). "": /Me answers 501 Not Implemented, as the RFC says a
	// service provider that does not support it should.
	Me string
	// Extensions are schema URNs besides the enterprise one that resources
	// may carry (an application's own extension); PATCH accepts paths
	// under them.
	Extensions []string
}

// DefaultScenario is a small application with the ladder Member < Admin <
// Owner carried in roles: an Owner (whose token idgraph uses), an Admin in
// the Admins group with two addresses, members, a deactivated user and one
// whose role sits in the enterprise extension's department too.
func DefaultScenario() *Scenario {
	return &Scenario{
		Token:      "scim-test-token",
		MaxResults: 100,
		Me:         "u-bot",
		Groups:     []string{"Member", "Admin", "Owner"},
		Users: []User{
			{ID: "u-bot", UserName: "it-bot@acme.com", DisplayName: "IT Bot", Active: true,
				Emails: []MultiValue{{Value: "it-bot@acme.com", Type: "work", Primary: true}},
				Roles:  []MultiValue{{Value: "Owner", Primary: true}}, Groups: []string{"Owner"}},
			{ID: "u-ada", ExternalID: "00u-ada", UserName: "ada@acme.com", Name: &Name{GivenName: "Ada", FamilyName: "Lovelace"},
				DisplayName: "Ada Lovelace", Title: "Admin", Active: true,
				Emails:       []MultiValue{{Value: "ada.lovelace@acme.com", Type: "home"}, {Value: "ada@acme.com", Type: "work", Primary: true}},
				Roles:        []MultiValue{{Value: "Billing"}, {Value: "Admin", Primary: true}},
				Entitlements: []MultiValue{{Value: "Admin"}}, Groups: []string{"Admin", "Engineering"},
				Enterprise: &Enterprise{EmployeeNumber: "1001", Department: "Admin"}},
			{ID: "u-bob", UserName: "bob@acme.com", DisplayName: "Bob Builder", Active: true,
				Emails: []MultiValue{{Value: "bob@acme.com", Type: "work", Primary: true}},
				Roles:  []MultiValue{{Value: "Member"}}, Entitlements: []MultiValue{{Value: "Member"}}, Groups: []string{"Member"},
				Enterprise: &Enterprise{EmployeeNumber: "1002", Department: "Member"}},
			{ID: "u-cy", UserName: "cy@acme.com", Name: &Name{Formatted: "Cy Twombly"}, Active: true,
				Emails: []MultiValue{{Value: "cy@acme.com", Primary: true}},
				Roles:  []MultiValue{{Value: "Member", Primary: true}}, Entitlements: []MultiValue{{Value: "Member"}}, Groups: []string{"Member"},
				Enterprise: &Enterprise{Department: "Member"}},
			{ID: "u-dee", UserName: "dee@acme.com", DisplayName: "Dee Parted", Active: false,
				Emails: []MultiValue{{Value: "dee@acme.com", Primary: true}},
				Roles:  []MultiValue{{Value: "Admin", Primary: true}}, Entitlements: []MultiValue{{Value: "Admin"}}, Groups: []string{"Admin"},
				Enterprise: &Enterprise{Department: "Admin"}},
		},
	}
}
