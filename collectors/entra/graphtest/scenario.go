// scenario.go holds the data the simulator serves: the Scenario (one
// tenant and its enterprise app) with its users, groups, app roles and
// assignments, and the application permissions a client can be granted.

package graphtest

// User is an Entra ID user.
type User struct {
	ID                string   `json:"id"`
	DisplayName       string   `json:"displayName"`
	GivenName         string   `json:"givenName,omitempty"`
	Surname           string   `json:"surname,omitempty"`
	UserPrincipalName string   `json:"userPrincipalName"`
	Mail              string   `json:"mail,omitempty"`
	OtherMails        []string `json:"otherMails,omitempty"`
	ProxyAddresses    []string `json:"proxyAddresses,omitempty"`
	AccountEnabled    bool     `json:"accountEnabled"`
	UserType          string   `json:"userType,omitempty"` // Member or Guest
	EmployeeID        string   `json:"employeeId,omitempty"`
	JobTitle          string   `json:"jobTitle,omitempty"`
	// Manager is the object id of the user's manager (the manager
	// relationship), "" for none.
	Manager string `json:"manager,omitempty"`
}

// Group is a security group; Members holds user and group ids (direct).
type Group struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"displayName"`
	Members     []string `json:"members"`
}

// AppRole is one role the enterprise app defines.
type AppRole struct {
	ID          string `json:"id"`
	Value       string `json:"value"`
	DisplayName string `json:"displayName"`
}

// Assignment is an appRoleAssignment to the app's service principal.
type Assignment struct {
	PrincipalID string `json:"principalId"`
	AppRoleID   string `json:"appRoleId"` // DefaultAccess for the default-access role
}

// DefaultAccess is the app role id of an assignment without a role.
const DefaultAccess = "00000000-0000-0000-0000-000000000000"

// Permissions an app can be granted (application permissions).
const (
	UserReadAll        = "User.Read.All"
	ApplicationReadAll = "Application.Read.All"
	GroupMemberReadAll = "GroupMember.Read.All"
)

// ServicePrincipal is an enterprise application of the tenant beside the
// scenario's first one (SPID, AppID, AppName, AppRoles, Assignments, set
// up by Variant), with its own app roles, assignments and settings, so
// that one tenant can assign several applications (entra.apps).
type ServicePrincipal struct {
	ID          string       `json:"id"`
	AppID       string       `json:"appId"`
	Name        string       `json:"displayName"`
	AppRoles    []AppRole    `json:"appRoles"`
	Assignments []Assignment `json:"assignments"`
	// AssignmentNotRequired is appRoleAssignmentRequired false: every
	// enabled user can sign in (Variant.AssignmentNotRequired for the first
	// application).
	AssignmentNotRequired bool `json:"assignmentNotRequired,omitempty"`
	// Disabled is accountEnabled false: nobody can sign in to the app.
	Disabled bool `json:"disabled,omitempty"`
}

// Scenario is the tenant the simulator serves.
type Scenario struct {
	TenantID     string       `json:"tenantId"`
	ClientID     string       `json:"clientId"`
	ClientSecret string       `json:"clientSecret"`
	Permissions  []string     `json:"permissions"` // granted with admin consent
	SPID         string       `json:"servicePrincipalId"`
	AppID        string       `json:"appId"`
	AppName      string       `json:"appName"`
	AppRoles     []AppRole    `json:"appRoles"`
	Assignments  []Assignment `json:"assignments"`
	Users        []User       `json:"users"`
	Groups       []Group      `json:"groups"`
	// Apps are the tenant's further enterprise applications. A fault on
	// one of them alone is a Faults path under its id, e.g. FailPath
	// "/v1.0/servicePrincipals/<id>/appRoleAssignedTo".
	Apps []ServicePrincipal `json:"apps,omitempty"`
}
