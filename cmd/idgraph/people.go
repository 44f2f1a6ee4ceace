package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/graph"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/serve"
	"github.com/idgraph/idgraph/store"
)

func (a *app) peopleCmd() *cobra.Command {
	var snapshot int64
	var email string
	o := &output{formats: []string{"table", "json", "csv"}}
	cmd := &cobra.Command{
		Use:   "people [--email ADDRESS] [--snapshot ID] [--format table|json|csv] [--out FILE]",
		Short: "Look people up by email address: their accounts, why each is linked, their findings",
		Long: `people lists the people of a snapshot (default: the latest). With --email it shows
the person whose accounts carry that address, in any source and any of the address
fields the sources report (Okta login, email, secondEmail; Entra userPrincipalName,
mail, otherMails, proxyAddresses), matched as correlation matches them (case, spaces,
Unicode form, the configured domain aliases and plus-addressing): every account with
its status, role and why it is linked, and the person's findings.

JSON is the shape of GET /api/v1/people/{id}, one object per person; CSV has one row
per account. With --email, no matching person is exit 2.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.resolve(cmd); err != nil {
				return err
			}
			return a.withReadStore(cmd.Context(), func(ctx context.Context, cfg *config.Config, st *store.Store) error {
				sum, err := st.Get(ctx, snapshot)
				if err != nil {
					return err
				}
				people, err := lookupPeople(ctx, cfg, st, sum.ID, email)
				if err != nil {
					return err
				}
				if email != "" && len(people) == 0 {
					return usageErr("no person in snapshot %d has the address %q (see `idgraph people` for everyone)", sum.ID, email)
				}
				apps := report.Apps(sum.Sources)
				err = a.write(o, func(w io.Writer, tty bool) error {
					switch o.format {
					case "json":
						return encodeJSON(w, people)
					case "csv":
						return peopleCSV(w, people, apps)
					}
					if email != "" {
						return personDetail(w, people, apps, tty)
					}
					return peopleTable(w, people, apps, tty)
				})
				if err == nil && !o.toStdout() {
					fmt.Fprintf(a.stdout, "wrote %s (%s of snapshot %d)\n", o.out, report.Plural(len(people), "person", "people"), sum.ID)
				}
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&email, "email", "e", "", "the address to look up (any address any source knows)")
	cmd.Flags().Int64Var(&snapshot, "snapshot", 0, "snapshot ID (default: the latest)")
	o.addFlags(cmd, false)
	return cmd
}

// lookupPeople returns the people of snapshot id, by email address when
// email is set, each with its accounts and findings, ordered by address.
func lookupPeople(ctx context.Context, cfg *config.Config, st *store.Store, id int64, email string) ([]serve.Person, error) {
	norm, err := graph.NewNormalizer(cfg.Domains.Aliases, cfg.Domains.StripPlus)
	if err != nil {
		return nil, &config.Error{Err: fmt.Errorf("%s: domains: %w", cfg.File, err)}
	}
	key := func(addr string) string {
		if k, err := norm.Normalize(addr); err == nil {
			return k
		}
		return strings.ToLower(strings.TrimSpace(addr))
	}
	var want string
	if email != "" {
		if want = key(email); want == "" {
			return nil, usageErr("--email %q is not an address", email)
		}
	}
	byID, err := st.People(ctx, id)
	if err != nil {
		return nil, err
	}
	accs, err := st.Accounts(ctx, id)
	if err != nil {
		return nil, err
	}
	fs, err := st.Findings(ctx, id)
	if err != nil {
		return nil, err
	}
	match := map[string]bool{}
	for pid, p := range byID {
		if want == "" || (p.Email != "" && key(p.Email) == want) {
			match[pid] = true
		}
	}
	if want != "" {
		for _, acc := range accs {
			if match[acc.Person] {
				continue
			}
			for _, addr := range append([]string{acc.Email}, addrValues(acc.Addresses)...) {
				if addr != "" && key(addr) == want {
					match[acc.Person] = true
					break
				}
			}
		}
	}
	out := map[string]*serve.Person{}
	for pid := range match {
		if p, ok := byID[pid]; ok {
			out[pid] = &serve.Person{Snapshot: id, Person: p, Accounts: []store.LinkedAccount{}, Findings: []diff.Finding{}}
		}
	}
	for _, acc := range accs {
		if p := out[acc.Person]; p != nil {
			p.Accounts = append(p.Accounts, acc)
		}
	}
	for _, f := range fs {
		if p := out[f.Person]; p != nil {
			p.Findings = append(p.Findings, f)
		}
	}
	list := make([]serve.Person, 0, len(out))
	for _, p := range out {
		list = append(list, *p)
	}
	slices.SortFunc(list, func(a, b serve.Person) int {
		if c := strings.Compare(strings.ToLower(a.Person.Email), strings.ToLower(b.Person.Email)); c != 0 {
			return c
		}
		return strings.Compare(a.Person.ID, b.Person.ID)
	})
	return list, nil
}

func addrValues(as []collectors.Address) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.Value)
	}
	return out
}

// expectedRoles is the expected-role text of a person: the role, with
// one application (as it always was); with several, each application's
// expected role under its title ("Notion: Member; Stonly: Admin"), the
// applications that expect none left out.
func expectedRoles(p store.Person, apps []report.Application) string {
	if len(apps) <= 1 {
		return p.ExpectedRole
	}
	var parts []string
	for _, a := range apps {
		if role, _ := p.ExpectedIn(a.Name); role != "" {
			parts = append(parts, a.Title+": "+role)
		}
	}
	return strings.Join(parts, "; ")
}

func peopleTable(w io.Writer, people []serve.Person, apps []report.Application, tty bool) error {
	width := 20
	if len(apps) > 1 {
		width = 80
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PERSON\tEMAIL\tNAME\tEXPECTED ROLE\tACCOUNTS\tFINDINGS")
	for _, p := range people {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", cell(p.Person.ID, 40, tty), cell(p.Person.Email, 60, tty), cell(p.Person.DisplayName, 40, tty),
			cell(expectedRoles(p.Person, apps), width, tty), len(p.Accounts), len(p.Findings))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(people) == 0 {
		fmt.Fprintln(w, "(no people in this snapshot)")
	}
	return nil
}

// personDetail prints each person with every account and finding.
func personDetail(w io.Writer, people []serve.Person, apps []report.Application, tty bool) error {
	for i, p := range people {
		if i > 0 {
			fmt.Fprintln(w)
		}
		name := p.Person.DisplayName
		if name == "" {
			name = "(no name)"
		}
		fmt.Fprintf(w, "%s <%s>  person %s  snapshot %d\n", cell(name, 60, tty), cell(p.Person.Email, 80, tty), cell(p.Person.ID, 60, tty), p.Snapshot)
		switch {
		case len(apps) > 1:
			// One line per application of the snapshot, under its title.
			for _, a := range apps {
				if role, why := p.Person.ExpectedIn(a.Name); role != "" {
					fmt.Fprintf(w, "expected role in %s: %s (%s)\n", cell(a.Title, 40, tty), cell(role, 30, tty), cell(why, 200, tty))
				} else {
					fmt.Fprintf(w, "expected role in %s: none (no active assignment)\n", cell(a.Title, 40, tty))
				}
			}
		case p.Person.ExpectedRole != "":
			fmt.Fprintf(w, "expected role: %s (%s)\n", cell(p.Person.ExpectedRole, 30, tty), cell(p.Person.ExpectedWhy, 200, tty))
		}
		fmt.Fprintf(w, "\n%s\n", report.Plural(len(p.Accounts), "account", "accounts"))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  SOURCE\tTEAM\tACCOUNT\tEMAIL\tSTATUS\tROLE\tASSIGNED\tLINKED BY")
		for _, acc := range p.Accounts {
			team := acc.TeamName
			if team == "" {
				team = acc.Team
			}
			role, assigned := acc.Role, assignedText(&acc.Account, apps)
			if role == "" {
				role = assignedRoles(&acc.Account)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cell(acc.Source, 30, tty), cell(team, 30, tty), cell(acc.ID, 40, tty),
				cell(acc.Email, 60, tty), cell(string(acc.Status), 20, tty), cell(role, 30, tty), cell(assigned, 60, tty), cell(acc.LinkReason, 60, tty))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(w, "\n%s\n", report.Plural(len(p.Findings), "finding", "findings"))
		for _, f := range p.Findings {
			fmt.Fprintf(w, "  %s  %-8s %-13s %s\n", f.ID, f.Severity, f.Kind, cell(f.Explanation, 160, tty))
		}
	}
	return nil
}

// peopleCSV writes one row per account of each person (a person without
// accounts gets one row).
//
// Its expected_role column is the person's expected role with one
// application, and each application's under its title with several
// (expectedRoles).
func peopleCSV(w io.Writer, people []serve.Person, apps []report.Application) error {
	cw, err := report.NewCSVWriter(w, report.CSVOptions{})
	if err != nil {
		return err
	}
	cw.Write([]string{"snapshot_id", "person_id", "person_email", "display_name", "expected_role", "findings",
		"source", "team", "account_id", "account_email", "status", "role", "assigned", "link_reason"})
	for _, p := range people {
		head := []string{strconv.FormatInt(p.Snapshot, 10), p.Person.ID, p.Person.Email, p.Person.DisplayName, expectedRoles(p.Person, apps),
			strconv.Itoa(len(p.Findings))}
		if len(p.Accounts) == 0 {
			cw.Write(append(head, "", "", "", "", "", "", "", ""))
		}
		for _, acc := range p.Accounts {
			cw.Write(append(head[:len(head):len(head)], acc.Source, acc.Team, acc.ID, acc.Email, string(acc.Status), acc.Role,
				assignedApps(&acc.Account), acc.LinkReason))
		}
	}
	return cw.Flush()
}

// assignedText says which applications an IdP account is assigned, and
// through what: "yes: wiki (group Wiki Admins)"; with several
// applications, each by its title: "yes: Team Wiki (direct); Notes (direct)".
func assignedText(a *collectors.Account, apps []report.Application) string {
	var parts []string
	for _, as := range a.Assignments {
		if as.InForce {
			name := as.App
			if len(apps) > 1 {
				name = report.TitleIn(apps, as.App)
			}
			parts = append(parts, strings.TrimSpace(name+" ("+strings.Join(as.Via, ", ")+")"))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "yes: " + strings.Join(parts, "; ")
}

// assignedRoles lists the role values an IdP account's assignments carry.
func assignedRoles(a *collectors.Account) string {
	var roles []string
	for _, as := range a.Assignments {
		if as.InForce {
			roles = append(roles, as.Roles...)
		}
	}
	return strings.Join(roles, ", ")
}

// assignedApps is the CSV's assigned column: "true"/"false" for an
// account of one application (as before applications were a dimension),
// otherwise the applications assigned, separated by ";".
func assignedApps(a *collectors.Account) string {
	var apps []string
	for _, as := range a.Assignments {
		if as.InForce {
			apps = append(apps, as.App)
		}
	}
	switch {
	case len(apps) == 0:
		return "false"
	case len(apps) == 1 && len(a.Assignments) <= 1:
		return "true"
	}
	return strings.Join(apps, ";")
}
