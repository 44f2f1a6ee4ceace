// scenario.go holds the data the simulator serves: the Scenario (one org)
// and its users, groups, app assignments and OAuth service app.

package oktatest

import (
	"crypto/rsa"
	"time"
)

// User is an Okta user.
type User struct {
	ID             string `json:"id"`
	Status         string `json:"status"` // ACTIVE, DEPROVISIONED, ...
	Login          string `json:"login"`
	Email          string `json:"email"`
	SecondEmail    string `json:"secondEmail,omitempty"`
	FirstName      string `json:"firstName"`
	LastName       string `json:"lastName"`
	DisplayName    string `json:"displayName,omitempty"`
	EmployeeNumber string `json:"employeeNumber,omitempty"`
	// ManagerID and Manager are the base profile's managerId ("ID of a
	// user's manager") and manager ("Display name of the user's
	// manager"), Okta's Users API, default user profile properties. Okta
	// checks neither: an HR import may put a login there.
	ManagerID     string    `json:"managerId,omitempty"`
	Manager       string    `json:"manager,omitempty"`
	Created       time.Time `json:"created"`
	LastUpdated   time.Time `json:"lastUpdated"`
	StatusChanged time.Time `json:"statusChanged"`
	LastLogin     time.Time `json:"lastLogin"`
}

// Group is an Okta group and its direct members (user IDs).
type Group struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Members []string `json:"members"`
	// MembershipUpdated is reported as lastMembershipUpdated; Update sets
	// it when the members change.
	MembershipUpdated time.Time `json:"membershipUpdated"`
}

// DirectAssignment assigns the app to one user (scope USER).
type DirectAssignment struct {
	UserID string `json:"userId"`
	Role   string `json:"role,omitempty"`
	// Roles makes the app-user profile's role attribute a string array,
	// as an app whose schema declares it an array of strings does.
	Roles  []string `json:"roles,omitempty"`
	Status string   `json:"status,omitempty"` // app-user status; default ACTIVE
}

// GroupAssignment assigns the app to a group. Lower priority numbers win
// when a user reaches the app through several groups, as in Okta.
type GroupAssignment struct {
	GroupID  string   `json:"groupId"`
	Priority int      `json:"priority"`
	Role     string   `json:"role,omitempty"`
	Roles    []string `json:"roles,omitempty"` // a string-array role attribute
}

// OAuthClient is a service app allowed to get tokens with a private key JWT.
type OAuthClient struct {
	ClientID  string
	PublicKey *rsa.PublicKey
	Scopes    []string // scopes the app was granted
	// Roles are the admin roles assigned to the service app (its "Admin
	// roles" tab). nil: Read-only Administrator.
	Roles []AdminRole
	// RequireDPoP is the app's "Require Demonstrating Proof of Possession
	// (DPoP) header in token requests" setting, which Okta turns on by
	// default for new API service apps.
	RequireDPoP bool
}

// Scenario is the org the simulator serves.
type Scenario struct {
	Token            string             `json:"token"` // the SSWS API token it accepts
	AppID            string             `json:"appId"`
	AppLabel         string             `json:"appLabel"`
	Users            []User             `json:"users"`
	Groups           []Group            `json:"groups"`
	Direct           []DirectAssignment `json:"direct"`
	GroupAssignments []GroupAssignment  `json:"groupAssignments"`
	OAuth            *OAuthClient       `json:"-"`
	// AppUserStatus overrides the app-user status of users (id -> status,
	// e.g. INACTIVE), whether assigned directly or through a group.
	AppUserStatus map[string]string `json:"appUserStatus,omitempty"`
	// Apps are further applications of the org, each with its own
	// assignments; AppID and the assignment fields above are the first
	// (when AppID is set). A fault on one app's list takes its path:
	// Faults{FailPath: "/api/v1/apps/0oaNotion/users", FailPage: 2}.
	Apps []App `json:"apps,omitempty"`
	// TokenOwner is the admin user an SSWS API token acts as (Okta: the
	// admin who created it; GET /api/v1/users/me returns them). Empty: a
	// built-in owner, DefaultTokenOwner, who is not in the user lists.
	TokenOwner string `json:"tokenOwner,omitempty"`
	// AdminRoles are the token owner's admin roles. nil: Read-only
	// Administrator. A group-scoped role (USER_ADMIN, HELP_DESK_ADMIN,
	// GROUP_MEMBERSHIP_ADMIN with Targets) sees only its groups' members.
	AdminRoles []AdminRole `json:"adminRoles,omitempty"`
}

// App is one application of the org and its assignments, as the fields
// AppID, Direct, GroupAssignments and AppUserStatus of Scenario are for
// the first.
type App struct {
	ID               string             `json:"id"`
	Label            string             `json:"label"`
	Direct           []DirectAssignment `json:"direct"`
	GroupAssignments []GroupAssignment  `json:"groupAssignments"`
	AppUserStatus    map[string]string  `json:"appUserStatus,omitempty"`
}

// AllApps returns the scenario's applications: the first (AppID and the
// fields beside it), if set, then Apps.
func (sc *Scenario) AllApps() []App {
	var out []App
	if sc.AppID != "" {
		out = append(out, App{ID: sc.AppID, Label: sc.AppLabel, Direct: sc.Direct, GroupAssignments: sc.GroupAssignments, AppUserStatus: sc.AppUserStatus})
	}
	return append(out, sc.Apps...)
}
