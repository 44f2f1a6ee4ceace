package collectors

import (
	"context"
	"time"
)

// The action contract (docs/RULES.md, "Remediation"): an application
// source that can change access implements Actor. Adding a source that can
// act touches its own folder only; the remediation package plans, caps,
// approves and proves, and never knows how an application is driven.

// Op is one kind of change in an application.
type Op string

const (
	// OpRemove removes the account from its team (Stonly) or, for a source
	// without teams, takes its access away: SCIM deactivates it
	// (PATCH active=false), or deletes it when so configured.
	OpRemove Op = "remove"
	// OpSetRole changes the account's role to Action.Role.
	OpSetRole Op = "set_role"
	// OpRevokeInvitation withdraws an invitation not yet accepted.
	OpRevokeInvitation Op = "revoke_invitation"
)

// Action is one planned change, as the reviewer decided it.
type Action struct {
	ID string // the plan's id for the action, for the evidence
	Op Op
	// Account is the account as the decision saw it (source, team, id,
	// e-mail, role, status). Before acting, the source re-reads the account
	// and refuses when it differs (another role, another person at the
	// address); an account already gone counts as done.
	Account Account
	Role    string // OpSetRole: the role to set
}

// Outcome is how one action ended.
type Outcome string

const (
	OutcomeDone        Outcome = "done"         // the application accepted the change
	OutcomeAlreadyDone Outcome = "already_done" // the account was already as decided (gone, or at the role)
	OutcomeRefused     Outcome = "refused"      // the account differs from what was decided, or is protected; nothing changed
	OutcomeFailed      Outcome = "failed"       // the application refused or the state is unknown
	OutcomeSkipped     Outcome = "skipped"      // not attempted: the batch stopped before it
)

// ActionResult is what carrying out one action produced.
type ActionResult struct {
	ID      string
	Outcome Outcome
	// Detail is what the page or API answered, in words an auditor reads
	// (a toast's text, an HTTP status and SCIM error detail). No secrets.
	Detail  string
	Started time.Time
	Ended   time.Time
	// Before and After are evidence captures (PNG screenshots for a browser
	// action, the JSON resource for an API), with secrets removed.
	Before, After []byte
	// CaptureType is the media type of Before and After ("image/png",
	// "application/scim+json").
	CaptureType string
}

// Actor is implemented by application sources that can carry out changes.
//
// Act carries out actions in order and stops the batch at the first
// unexpected state (a page it does not recognise, an error that leaves the
// application's state unknown): the remaining actions are returned as
// OutcomeSkipped, and the error says why it stopped. A refused action
// (the account changed since the decision, or is protected: a team's
// Owner, the account the source signs in with) does not stop the batch.
// Act returns one result per action, in order, even when it fails.
type Actor interface {
	Act(ctx context.Context, actions []Action) ([]ActionResult, error)
}
