package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/graph"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/report/alert"
	"github.com/idgraph/idgraph/review"
	"github.com/idgraph/idgraph/store"
)

// CampaignItemColumns is the CSV header of `idgraph campaign show`:
// stable, add only at the end.
var CampaignItemColumns = []string{"campaign_id", "item_id", "item_kind", "item_key", "app", "kind", "severity", "team", "email",
	"account", "actual_role", "reviewer", "routed_by", "state", "overdue", "decision_id", "decision", "decision_role", "decided_by",
	"decided_at", "second_reviewer", "justification"}

// defaultDue is how long a campaign runs when --due is not given.
const defaultDue = 14 * 24 * time.Hour

// newCampaignCmd is `idgraph campaign start|list|show|decide|remind|signoff`.
func newCampaignCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "campaign",
		Short: "Review campaigns: freeze a snapshot's population, route it to reviewers, sign it off",
		Long: `A campaign freezes the population of one snapshot for one or more applications:
every app account of them and every open finding, copied into the store, so that later
snapshots change nothing. Each open finding is an item to review; so is each account
that no finding names (its access: approve keeps it, revoke removes it, modify changes
its role), recorded under the finding key access/<app>/<account key>.

Every item is routed to a reviewer by review.route (or --route): the application's
owner (review.owners), the person's manager as an IdP records it, or one named reviewer.
Nobody reviews their own access (any of their addresses): such items, and items the rule
gives nobody, go to review.fallback_reviewer; without one the start is refused.

The start, each reminder and the sign-off are entries of the evidence chain that
` + "`idgraph verify`" + ` checks, with a hash over the frozen population. After the sign-off
the campaign's population and decisions are read-only.`,
	}
	cmd.AddCommand(campaignStartCmd(a), campaignListCmd(a), campaignShowCmd(a), campaignDecideCmd(a), campaignRemindCmd(a), campaignSignoffCmd(a))
	return cmd
}

// campaignErr maps the store's campaign errors to exit codes.
func campaignErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNoCompleteSnapshot):
		return &exitError{exitIncomplete, err}
	case errors.Is(err, review.ErrRefused), errors.Is(err, store.ErrUnrouted), errors.Is(err, store.ErrNoCampaign), errors.Is(err, store.ErrNoFinding):
		return &exitError{exitUsage, err}
	}
	return err
}

func campaignID(arg string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(arg, "#"), 10, 64)
	if err != nil || id < 1 {
		return 0, usageErr("a campaign ID is a number, as `idgraph campaign list` shows it, not %q", arg)
	}
	return id, nil
}

func campaignStartCmd(a *app) *cobra.Command {
	var apps []string
	var due, route, reviewer, fallback, by string
	o := &output{formats: []string{"table", "json"}}
	cmd := &cobra.Command{
		Use:   "start --app APP [--app APP2] [--due DATE] [--route owner|manager|reviewer] [--reviewer EMAIL]",
		Short: "Start a campaign: freeze the latest complete snapshot's population and route it",
		Long: `start freezes the population of the newest snapshot in which the application's sources
and the IdPs were all complete (newer snapshots with an incomplete source are passed
over, and said so), and routes each item to its reviewer.

  --app APP        the application (its short name, e.g. stonly); repeat for several
  --due DATE       when the review is due (YYYY-MM-DD: the end of that day, UTC);
                   default: 14 days from now
  --route RULE     owner, manager or reviewer; default review.route, else owner
  --reviewer EMAIL the reviewer of --route reviewer; default review.reviewer
  --fallback EMAIL reviews own access and what the rule gives nobody;
                   default review.fallback_reviewer

Exit 0 when started; 2 when an item has no reviewer (the message names the items) or
the flags are wrong; 3 when no snapshot read the application and the IdPs in full (the
message names the incomplete source).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.resolve(cmd); err != nil {
				return err
			}
			if len(apps) == 0 {
				return usageErr("--app APP is required: a campaign reviews an application (e.g. --app stonly)")
			}
			dueAt, err := parseWhen("--due", due)
			if err != nil {
				return err
			}
			now := time.Now().UTC()
			if dueAt.IsZero() {
				d := now.Add(defaultDue)
				dueAt = time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, time.UTC)
			}
			if !dueAt.After(now) {
				return usageErr("--due %s is not in the future", due)
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, cfg *config.Config, st *store.Store) error {
				rt, err := routingOf(cfg, route, reviewer, fallback)
				if err != nil {
					return err
				}
				norm, err := graph.NewNormalizer(cfg.Domains.Aliases, cfg.Domains.StripPlus)
				if err != nil {
					return &exitError{exitUsage, fmt.Errorf("domains: %w", err)}
				}
				normalize := func(s string) string {
					if n, err := norm.Normalize(s); err == nil {
						return n
					}
					return review.Fold(s)
				}
				var list []string
				for _, ap := range apps {
					for _, s := range strings.Split(ap, ",") {
						if s = strings.TrimSpace(s); s != "" {
							list = append(list, s)
						}
					}
				}
				rv := reviewingOf(cfg)
				c, note, err := st.StartCampaign(ctx, store.CampaignSpec{Apps: list, Due: dueAt, Routing: rt, StartedBy: by, Now: now,
					Normalize: normalize, LogFile: rv.LogFile})
				if err != nil {
					return campaignErr(err)
				}
				if note != "" {
					a.log.Warn("newer snapshots were passed over: a source was incomplete in them", "campaign", c.ID, "snapshot", c.SnapshotID, "passed_over", note)
				}
				crv, err := st.ReviewCampaign(ctx, c.ID, now)
				if err != nil {
					return err
				}
				head, err := st.ChainHead(ctx)
				if err != nil {
					return err
				}
				a.log.Info("campaign started", "campaign", c.ID, "apps", c.Apps, "snapshot", c.SnapshotID, "items", c.Items, "reviewers", len(crv.Reviewers))
				return a.write(o, func(w io.Writer, tty bool) error {
					if o.format == "json" {
						return encodeJSON(w, campaignSummary(crv, head))
					}
					fmt.Fprintf(w, "started campaign %d of %s: snapshot %d, %d accounts, %d items for %d reviewers, due %s\n",
						c.ID, strings.Join(c.Apps, ", "), c.SnapshotID, c.Accounts, c.Items, len(crv.Reviewers), c.Due.Format("2006-01-02 15:04 UTC"))
					if note != "" {
						fmt.Fprintf(w, "newer snapshots were passed over: %s\n", note)
					}
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "REVIEWER\tITEMS")
					for _, who := range crv.Reviewers {
						fmt.Fprintf(tw, "%s\t%d\n", cell(who, 60, tty), crv.ByReviewer[who].Total)
					}
					tw.Flush()
					_, err := fmt.Fprintf(w, "chain head: %s\n", head)
					return err
				})
			})
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&apps, "app", nil, "the application to review (repeat, or separate with commas, for several)")
	f.StringVar(&due, "due", "", "when the review is due (YYYY-MM-DD or RFC 3339); default: 14 days from now")
	f.StringVar(&route, "route", "", "owner, manager or reviewer (default: review.route, else owner)")
	f.StringVar(&reviewer, "reviewer", "", "the reviewer of --route reviewer (default: review.reviewer)")
	f.StringVar(&fallback, "fallback", "", "the fallback reviewer (default: review.fallback_reviewer)")
	f.StringVar(&by, "by", "", "who starts the campaign (an email address), for the evidence chain")
	o.addFlags(cmd, false)
	return cmd
}

// routingOf is the configured routing with the flags' overrides.
func routingOf(cfg *config.Config, route, reviewer, fallback string) (review.Routing, error) {
	if route == "" {
		route = cfg.Review.Route
	}
	r, err := review.ParseRoute(route)
	if err != nil {
		return review.Routing{}, usageErr("--route: %v", err)
	}
	rt := review.Routing{Route: r, Owners: map[string]string{}, Reviewer: cfg.Review.Reviewer, Fallback: cfg.Review.FallbackReviewer}
	for app, who := range cfg.Review.Owners {
		rt.Owners[app] = review.Fold(who)
	}
	if reviewer != "" {
		rt.Reviewer = reviewer
	}
	if fallback != "" {
		rt.Fallback = fallback
	}
	rt.Reviewer, rt.Fallback = review.Fold(rt.Reviewer), review.Fold(rt.Fallback)
	for _, v := range []struct{ flag, val string }{{"--reviewer", rt.Reviewer}, {"--fallback", rt.Fallback}} {
		if v.val != "" && !strings.Contains(v.val, "@") {
			return review.Routing{}, usageErr("%s must be an email address, not %q", v.flag, v.val)
		}
	}
	if r == review.RouteReviewer && rt.Reviewer == "" {
		return review.Routing{}, usageErr("--route reviewer needs --reviewer EMAIL (or review.reviewer in the configuration)")
	}
	return rt, nil
}

// campaignRow is a campaign in `campaign list` and in JSON answers.
type campaignRow struct {
	*store.Campaign
	State      string                      `json:"state"` // open | signed off
	Progress   review.Progress             `json:"progress"`
	ByReviewer map[string]*review.Progress `json:"by_reviewer"`
	ChainHead  string                      `json:"chain_head,omitempty"`
}

func campaignSummary(rv *store.CampaignReview, head string) campaignRow {
	state := "open"
	if rv.SignedOff {
		state = "signed off"
	}
	return campaignRow{Campaign: rv.Campaign, State: state, Progress: rv.Progress, ByReviewer: rv.ByReviewer, ChainHead: head}
}

func campaignListCmd(a *app) *cobra.Command {
	o := &output{formats: []string{"table", "json", "csv"}}
	cmd := &cobra.Command{
		Use:   "list [--format table|json|csv] [--out FILE]",
		Short: "List campaigns, newest first, with their progress",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.resolve(cmd); err != nil {
				return err
			}
			return a.withReadStore(cmd.Context(), func(ctx context.Context, _ *config.Config, st *store.Store) error {
				cs, err := st.Campaigns(ctx)
				if err != nil {
					return err
				}
				now := time.Now()
				rows := []campaignRow{}
				for _, c := range cs {
					rv, err := st.ReviewCampaign(ctx, c.ID, now)
					if err != nil {
						return err
					}
					rows = append(rows, campaignSummary(rv, ""))
				}
				return a.write(o, func(w io.Writer, tty bool) error {
					switch o.format {
					case "json":
						return encodeJSON(w, rows)
					case "csv":
						cw, err := report.NewCSVWriter(w, report.CSVOptions{})
						if err != nil {
							return err
						}
						cw.Write([]string{"id", "apps", "snapshot_id", "started_at", "started_by", "due", "items", "decided", "pending_second_reviewer",
							"undecided", "overdue", "state", "signed_off_by", "signed_off_at"})
						for _, r := range rows {
							by, at := "", ""
							if r.Signoff != nil {
								by, at = r.Signoff.By, decisionTime(r.Signoff.At)
							}
							cw.Write([]string{strconv.FormatInt(r.ID, 10), strings.Join(r.Apps, ";"), strconv.FormatInt(r.SnapshotID, 10), decisionTime(r.StartedAt),
								r.StartedBy, decisionTime(r.Due), strconv.Itoa(r.Items), strconv.Itoa(r.Progress.Decided), strconv.Itoa(r.Progress.Pending),
								strconv.Itoa(r.Progress.Undecided), strconv.Itoa(r.Progress.Overdue), r.State, by, at})
						}
						return cw.Flush()
					}
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "ID\tAPPS\tSNAPSHOT\tSTARTED (UTC)\tDUE (UTC)\tDECIDED\tPENDING\tOVERDUE\tSTATE")
					for _, r := range rows {
						state := r.State
						if r.Signoff != nil {
							state += " by " + r.Signoff.By + " " + r.Signoff.At.UTC().Format("2006-01-02")
						}
						fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%d/%d\t%d\t%d\t%s\n", r.ID, cell(strings.Join(r.Apps, ", "), 30, tty), r.SnapshotID,
							r.StartedAt.UTC().Format("2006-01-02 15:04"), r.Due.UTC().Format("2006-01-02 15:04"), r.Progress.Decided, r.Progress.Total,
							r.Progress.Pending, r.Progress.Overdue, cell(state, 60, tty))
					}
					if len(rows) == 0 {
						fmt.Fprintln(tw, "(no campaigns; start one with `idgraph campaign start --app APP`)")
					}
					return tw.Flush()
				})
			})
		},
	}
	o.addFlags(cmd, false)
	return cmd
}

func campaignShowCmd(a *app) *cobra.Command {
	var reviewer, asOf string
	o := &output{formats: []string{"table", "json", "csv"}}
	cmd := &cobra.Command{
		Use:   "show ID [--reviewer EMAIL] [--as-of TIME] [--format table|json|csv] [--out FILE]",
		Short: "Show a campaign's items: reviewer, decision state, overdue",
		Long: `show lists a campaign's items with their reviewer (and why), their decision state in the
campaign (the latest decision about the item made between the start and the sign-off:
decided, pending a second reviewer, or undecided) and whether they are overdue.

--reviewer EMAIL lists one reviewer's queue; --as-of TIME shows the campaign as it
stood then.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.resolve(cmd); err != nil {
				return err
			}
			id, err := campaignID(args[0])
			if err != nil {
				return err
			}
			at, err := parseWhen("--as-of", asOf)
			if err != nil {
				return err
			}
			return a.withReadStore(cmd.Context(), func(ctx context.Context, _ *config.Config, st *store.Store) error {
				rv, err := st.ReviewCampaign(ctx, id, at)
				if err != nil {
					return campaignErr(err)
				}
				items := []store.ItemReview{}
				who := review.Fold(reviewer)
				for _, it := range rv.Items {
					if who == "" || it.Reviewer == who {
						items = append(items, it)
					}
				}
				if who != "" && rv.ByReviewer[who] == nil {
					return usageErr("%s reviews nothing in campaign %d; its reviewers: %s", who, id, strings.Join(rv.Reviewers, ", "))
				}
				return a.write(o, func(w io.Writer, tty bool) error {
					switch o.format {
					case "json":
						return encodeJSON(w, struct {
							campaignRow
							Items []store.ItemReview `json:"items"`
						}{campaignSummary(rv, ""), items})
					case "csv":
						return campaignItemsCSV(w, id, items)
					}
					c := rv.Campaign
					state := "open"
					if rv.SignedOff {
						state = "signed off by " + c.Signoff.By + " on " + c.Signoff.At.UTC().Format("2006-01-02 15:04 UTC")
					}
					p := rv.Progress
					if who != "" {
						p = *rv.ByReviewer[who]
					}
					fmt.Fprintf(w, "campaign %d of %s (snapshot %d), due %s, %s: %d of %d decided, %d pending a second reviewer, %d overdue\n",
						c.ID, strings.Join(c.Apps, ", "), c.SnapshotID, c.Due.UTC().Format("2006-01-02 15:04 UTC"), state, p.Decided, p.Total, p.Pending, p.Overdue)
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "ITEM\tKIND\tSEVERITY\tEMAIL\tROLE\tREVIEWER\tSTATE\tDECISION")
					for _, it := range items {
						dec, kind := "", it.Finding.Kind
						if d := it.Decision; d != nil {
							dec = d.State(rv.End) + " by " + d.Reviewer
						}
						st := it.State
						if it.Overdue {
							st += " (overdue)"
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.ID, kind, it.Finding.Severity, cell(it.Email, 40, tty), cell(it.Finding.ActualRole, 16, tty),
							cell(it.Reviewer, 40, tty), st, cell(dec, 60, tty))
					}
					if len(items) == 0 {
						fmt.Fprintln(tw, "(no items)")
					}
					return tw.Flush()
				})
			})
		},
	}
	cmd.Flags().StringVar(&reviewer, "reviewer", "", "only this reviewer's items")
	cmd.Flags().StringVar(&asOf, "as-of", "", "the campaign as it stood at this time (YYYY-MM-DD or RFC 3339)")
	o.addFlags(cmd, false)
	return cmd
}

func campaignItemsCSV(w io.Writer, id int64, items []store.ItemReview) error {
	cw, err := report.NewCSVWriter(w, report.CSVOptions{})
	if err != nil {
		return err
	}
	cw.Write(CampaignItemColumns)
	for _, it := range items {
		f := it.Finding
		rec := []string{strconv.FormatInt(id, 10), it.ID, it.Kind, it.Key, it.App, f.Kind, f.Severity, f.Team, it.Email, f.Account, f.ActualRole,
			it.Reviewer, it.RoutedBy, it.State, strconv.FormatBool(it.Overdue)}
		if d := it.Decision; d != nil {
			rec = append(rec, strconv.FormatInt(d.ID, 10), d.Decision, d.Role, d.Reviewer, decisionTime(d.DecidedAt), d.ConfirmedBy, d.Justification)
		} else {
			rec = append(rec, "", "", "", "", "", "", "")
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	return cw.Flush()
}

func campaignDecideCmd(a *app) *cobra.Command {
	df := &decisionFlags{of: "the item's"}
	o := &output{formats: []string{"table", "json"}}
	cmd := &cobra.Command{
		Use:   "decide ID ITEM --decision approve|revoke|modify|exception --justification TEXT --reviewer EMAIL [--role ROLE] [--expires DATE]",
		Short: "Record a decision about an item of an open campaign (also an account's access)",
		Long: `decide records a decision about an item of an open campaign (its ID or key, as
` + "`idgraph campaign show`" + ` lists it) by the same rules as ` + "`idgraph decide`" + ` and the web UI. The
rules judge the item as the campaign froze it, so an account item (kind access) is
decided here: approve keeps the access (until --expires), revoke removes it, modify
changes its role. A decision that needs a second reviewer is confirmed with
  idgraph campaign decide ID ITEM --confirm --reviewer OTHER_EMAIL
A signed-off campaign refuses (exit 2).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.resolve(cmd); err != nil {
				return err
			}
			id, err := campaignID(args[0])
			if err != nil {
				return err
			}
			now := time.Now()
			req, err := df.request("the item's decision", now)
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, cfg *config.Config, st *store.Store) error {
				var d *store.Decision
				var it *store.CampaignItem
				if df.confirm {
					d, it, err = st.ConfirmItem(ctx, reviewingOf(cfg), id, args[1], req.Reviewer, now)
				} else {
					d, it, err = st.DecideItem(ctx, reviewingOf(cfg), id, args[1], req)
				}
				if err != nil {
					return campaignErr(err)
				}
				head, err := st.ChainHead(ctx)
				if err != nil {
					return err
				}
				a.log.Info("decision recorded", "campaign", id, "decision", d.ID, "item", it.Key, "kind", d.Decision, "reviewer", d.Reviewer)
				return a.write(o, func(w io.Writer, _ bool) error {
					if o.format == "json" {
						return encodeJSON(w, struct {
							*store.Decision
							State string `json:"review_status"`
							Head  string `json:"chain_head"`
						}{d, d.State(now), head})
					}
					what := decided(d)
					switch {
					case df.confirm:
						fmt.Fprintf(w, "confirmed decision %d about item %s of campaign %d (%s by %s) as second reviewer %s: it is in force\n",
							d.ID, it.ID, id, what, d.Reviewer, d.ConfirmedBy)
					case d.Pending():
						fmt.Fprintf(w, "recorded decision %d about item %s of campaign %d: %s by %s; it needs a second reviewer, until then it is not in force\n",
							d.ID, it.ID, id, what, d.Reviewer)
					default:
						fmt.Fprintf(w, "recorded decision %d about item %s of campaign %d: %s by %s (%s)\n", d.ID, it.ID, id, what, d.Reviewer, d.State(now))
					}
					_, err := fmt.Fprintf(w, "chain head: %s\n", head)
					return err
				})
			})
		},
	}
	df.add(cmd)
	o.addFlags(cmd, false)
	return cmd
}

func campaignRemindCmd(a *app) *cobra.Command {
	var dryRun bool
	var url string
	cmd := &cobra.Command{
		Use:   "remind ID [--dry-run] [--url URL]",
		Short: "Remind reviewers of overdue items and of undecided items due within a day",
		Long: `remind sends one reminder per reviewer who has overdue items, or undecided items due
within a day, through the configured alert sinks (alerts.slack, alerts.webhook; the
webhook's body is the reminder as JSON, signed as alerts are, with X-Idgraph-Event:
review_reminder). With no sink configured, or with --dry-run, it prints the reminders
instead. Each reminder sent is recorded in the evidence chain. Exit 0 when every
reminder was delivered (or printed), 1 when a delivery failed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := campaignID(args[0])
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, cfg *config.Config, st *store.Store) error {
				var sinks []alert.Sink
				if !dryRun {
					if sinks, err = alert.Sinks(cfg.Alerts, cfg.File, a.getenv); err != nil {
						return err
					}
				}
				now := time.Now()
				rv, err := st.ReviewCampaign(ctx, id, now)
				if err != nil {
					return campaignErr(err)
				}
				if rv.SignedOff {
					return usageErr("campaign %d is signed off: there is nothing to remind anyone of", id)
				}
				rs := alert.Reminders(rv, now, url)
				if len(sinks) == 0 {
					why := "no alert sink is configured (alerts.slack, alerts.webhook)"
					if dryRun {
						why = "dry run"
					}
					fmt.Fprintf(a.stdout, "%d reminders (%s; nothing was sent):\n", len(rs), why)
					for i := range rs {
						fmt.Fprintln(a.stdout, "  "+report.Terminal(rs[i].Text(), 400))
					}
					return nil
				}
				var failed []error
				for i := range rs {
					r := &rs[i]
					if err := alert.SendReminder(ctx, sinks, r, now); err != nil {
						failed = append(failed, err)
						a.log.Error("reminder not delivered", "campaign", id, "reviewer", r.Reviewer, "error", err)
						continue
					}
					if err := st.RecordCampaignEvent(ctx, id, "remind", "idgraph", now, map[string]any{"reviewer": r.Reviewer, "overdue": r.Overdue,
						"due_soon": r.DueSoon, "undecided": r.Undecided}, reviewingOf(cfg).LogFile); err != nil {
						return err
					}
					fmt.Fprintf(a.stdout, "reminded %s\n", report.Terminal(r.Text(), 400))
				}
				if len(rs) == 0 {
					fmt.Fprintln(a.stdout, "no reviewer has overdue items or undecided items due within a day")
				}
				if len(failed) > 0 {
					return fmt.Errorf("%d of %d reminders were not delivered: %w", len(failed), len(rs), errors.Join(failed...))
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the reminders instead of sending them")
	cmd.Flags().StringVar(&url, "url", "", "the address of the web UI's review page, for the reminder's link (e.g. https://idgraph.acme.com/reviews)")
	return cmd
}

func campaignSignoffCmd(a *app) *cobra.Command {
	var reviewer string
	o := &output{formats: []string{"table", "json"}}
	cmd := &cobra.Command{
		Use:   "signoff ID --reviewer EMAIL",
		Short: "Sign a campaign off: record its counts and revokes; it is read-only from then on",
		Long: `signoff ends a campaign: it records who signed off and when, the counts of items decided,
undecided (pending a second reviewer included) and overdue, and each revoke's (and
modify's) remediation state ("not planned" until remediation carries it out), as an entry
of the evidence chain. From then on the campaign's population and decisions are
read-only: a decision about one of its items is refused until a new campaign includes it.
Exit 0 when signed off, 2 when it was signed off already.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.resolve(cmd); err != nil {
				return err
			}
			id, err := campaignID(args[0])
			if err != nil {
				return err
			}
			if reviewer == "" {
				return usageErr("--reviewer EMAIL is required: a sign-off names who signed")
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, cfg *config.Config, st *store.Store) error {
				so, err := st.SignOff(ctx, id, reviewer, time.Now(), reviewingOf(cfg).LogFile)
				if err != nil {
					return campaignErr(err)
				}
				head, err := st.ChainHead(ctx)
				if err != nil {
					return err
				}
				a.log.Info("campaign signed off", "campaign", id, "by", so.By, "decided", so.Progress.Decided, "overdue", so.Progress.Overdue)
				return a.write(o, func(w io.Writer, tty bool) error {
					if o.format == "json" {
						return encodeJSON(w, struct {
							*store.Signoff
							Head string `json:"chain_head"`
						}{so, head})
					}
					p := so.Progress
					fmt.Fprintf(w, "signed off campaign %d as %s: %d of %d decided, %d undecided (%d of them pending a second reviewer), %d overdue\n",
						id, so.By, p.Decided, p.Total, p.Undecided+p.Pending, p.Pending, p.Overdue)
					for _, r := range so.Revokes {
						what := r.Decision
						if r.Role != "" {
							what += " to " + r.Role
						}
						fmt.Fprintf(w, "  %s %s (decision %d): %s\n", what, cell(r.Key, 80, tty), r.DecisionID, r.Remediation)
					}
					_, err := fmt.Fprintf(w, "chain head: %s\n", head)
					return err
				})
			})
		},
	}
	cmd.Flags().StringVar(&reviewer, "reviewer", "", "who signs off (an email address; required)")
	o.addFlags(cmd, false)
	return cmd
}
