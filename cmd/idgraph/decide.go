package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/review"
	"github.com/idgraph/idgraph/store"
)

// reviewingOf is the review policy and evidence log of a configuration.
// The configuration has no review keys yet: the defaults apply (approvals
// and exceptions up to a year; Admin and Owner privileged; no evidence
// log file).
func reviewingOf(cfg *config.Config) store.Reviewing {
	r := store.Reviewing{Policy: review.Policy{MaxApproval: cfg.Review.MaxApproval, Privileged: cfg.Review.PrivilegedRoles}}
	if cfg.Evidence.LogFile != "" {
		r.LogFile = cfg.Path(cfg.Evidence.LogFile)
	}
	return r
}

// parseWhen reads a date (YYYY-MM-DD: through the end of that day, UTC) or
// an RFC 3339 time.
func parseWhen(flag, v string) (time.Time, error) {
	t, err := review.ParseTime(v)
	if err != nil {
		return time.Time{}, usageErr("%s must be a date (YYYY-MM-DD) or an RFC 3339 time, not %q", flag, v)
	}
	return t, nil
}

func newDecideCmd(a *app) *cobra.Command {
	df := &decisionFlags{of: "the finding's"}
	o := &output{formats: []string{"table", "json"}}
	cmd := &cobra.Command{
		Use:   "decide FINDING_ID --decision approve|revoke|modify|exception --justification TEXT --reviewer EMAIL [--role ROLE] [--expires DATE]",
		Short: "Record a review decision about a finding of the latest snapshot",
		Long: `decide records a reviewer's decision about a finding (its ID, as ` + "`idgraph findings`" + ` shows
it, or its key) by the same rules as the web UI:

  approve    keep the access; --expires is required, at most a year ahead
  revoke     remove the access
  modify     change the role to --role
  exception  keep on purpose; --expires is its end date, required

A justification is required, and nobody decides about their own access. Approving a
critical finding, and revoking or modifying Admin or Owner access, needs a second
reviewer: the decision is pending until another reviewer confirms it with
  idgraph decide FINDING_ID --confirm --reviewer EMAIL

Every decision is an entry of the evidence chain that ` + "`idgraph verify`" + ` checks; a later
decision never replaces an earlier one (` + "`idgraph decisions`" + ` lists them all).
Exit 0 when recorded, 2 when the rules refuse it or the finding is not in the latest
snapshot.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.resolve(cmd); err != nil {
				return err
			}
			req, err := df.request("the decision", time.Now())
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, cfg *config.Config, st *store.Store) error {
				rv := reviewingOf(cfg)
				var d *store.Decision
				if df.confirm {
					d, _, err = st.ConfirmFinding(ctx, rv, args[0], req.Reviewer, time.Now())
				} else {
					d, _, err = st.Submit(ctx, rv, args[0], req)
				}
				if errors.Is(err, review.ErrRefused) || errors.Is(err, store.ErrNoFinding) {
					return &exitError{exitUsage, err}
				}
				if err != nil {
					return err
				}
				head, err := st.ChainHead(ctx)
				if err != nil {
					return err
				}
				a.log.Info("decision recorded", "decision", d.ID, "finding", d.FindingKey, "kind", d.Decision, "reviewer", d.Reviewer, "confirmed_by", d.ConfirmedBy)
				if o.format == "json" {
					return a.write(o, func(w io.Writer, _ bool) error {
						return encodeJSON(w, struct {
							*store.Decision
							State string `json:"review_status"`
							Head  string `json:"chain_head"`
						}{d, d.State(time.Now()), head})
					})
				}
				return a.write(o, func(w io.Writer, _ bool) error {
					what := decided(d)
					switch {
					case df.confirm:
						fmt.Fprintf(w, "confirmed decision %d (%s by %s) as second reviewer %s: it is in force\n", d.ID, what, d.Reviewer, d.ConfirmedBy)
					case d.Pending():
						fmt.Fprintf(w, "recorded decision %d: %s by %s; it needs a second reviewer, until then it is not in force:\n  idgraph decide %s --confirm --reviewer OTHER_EMAIL\n",
							d.ID, what, d.Reviewer, shellArg(args[0]))
					default:
						fmt.Fprintf(w, "recorded decision %d: %s by %s (%s)\n", d.ID, what, d.Reviewer, d.State(time.Now()))
					}
					fmt.Fprintf(w, "chain head: %s\n", head)
					return nil
				})
			})
		},
	}
	df.add(cmd)
	o.addFlags(cmd, false)
	return cmd
}

// decisionFlags are the flags of a decision, shared by `idgraph decide`
// and `idgraph campaign decide`: the same rules, the same words.
type decisionFlags struct {
	decision, justification, reviewer, role, expires string
	confirm                                          bool
	// of names what --confirm confirms: "the finding's", "the item's".
	of string
}

func (df *decisionFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&df.decision, "decision", "", "approve, revoke, modify or exception")
	f.StringVar(&df.justification, "justification", "", "why (required)")
	f.StringVar(&df.reviewer, "reviewer", "", "who decides (an email address; required)")
	f.StringVar(&df.role, "role", "", "modify: the role to change to")
	f.StringVar(&df.expires, "expires", "", "approve: when the approval expires; exception: when it ends (YYYY-MM-DD or RFC 3339)")
	f.BoolVar(&df.confirm, "confirm", false, "confirm, as the second reviewer, "+df.of+" decision that waits for one")
}

// request checks the flags and returns the decision they ask for; what
// --confirm confirms is named by confirming ("the decision", "the item's
// decision").
func (df *decisionFlags) request(confirming string, now time.Time) (review.Request, error) {
	if df.reviewer == "" {
		return review.Request{}, usageErr("--reviewer EMAIL is required: every decision names who made it")
	}
	if df.confirm && (df.decision != "" || df.justification != "" || df.role != "" || df.expires != "") {
		return review.Request{}, usageErr("--confirm takes --reviewer only: it confirms %s that waits for a second reviewer", confirming)
	}
	exp, err := parseWhen("--expires", df.expires)
	if err != nil {
		return review.Request{}, err
	}
	return review.Request{Decision: df.decision, Justification: df.justification, Reviewer: df.reviewer, Role: df.role, Expires: exp, Now: now}, nil
}

// decided is how a decision is said: "modify to Member".
func decided(d *store.Decision) string {
	if d.Role != "" {
		return d.Decision + " to " + d.Role
	}
	return d.Decision
}

// shellArg quotes s for a command line when it needs it.
func shellArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`*?[]{}()<>|&;#~!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
