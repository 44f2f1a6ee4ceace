package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"net/http"
	"slices"

	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/report"
)

// Slack posts Block Kit messages to an incoming webhook.
type Slack struct {
	URL    string
	Client *http.Client
}

// Name names the sink.
func (s *Slack) Name() string { return "slack" }

// Slack's limits: 50 blocks per message, 3,000 characters in a section's
// text, 150 in a header; we show at most maxItems findings and summarise
// the rest with a count.
const (
	maxBlocks   = 50
	maxSection  = 3000
	maxHeader   = 150
	maxItems    = 20
	maxFallback = 3000
)

// escape applies Slack's escaping of its control characters (& < >), and
// neutralises text that would otherwise format or mention (*, _, ~, `).
func escape(s string) string {
	s = report.Terminal(s, 400)
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
	return strings.NewReplacer("*", "\u2217", "_", "\uff3f", "~", "\u223c", "`", "\u2018").Replace(s)
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// maxUnknown is how many findings that could not be re-checked a message
// lists; with maxItems facts and the fixed blocks it stays within
// maxBlocks.
const maxUnknown = 15

// apps names the alert's applications as the findings do ("Notion"):
// from the data, never written here.
func apps(a *Alert) string {
	names := a.Apps
	if len(names) == 0 {
		for _, f := range a.Findings {
			if f.App != "" && !slices.Contains(names, f.App) {
				names = append(names, f.App)
			}
		}
	}
	var titles []string
	for _, n := range names {
		titles = append(titles, titleOf(a, n))
	}
	return report.List(titles)
}

// titleOf is an application's title as the alert's data gives it (the
// capitalised name for an alert queued before alerts carried titles).
func titleOf(a *Alert, app string) string {
	if t := a.AppTitles[app]; t != "" {
		return t
	}
	return report.Title(app)
}

// inApp is " in Notion" for a line of an alert about several
// applications, "" for an alert about one (whose headline names it).
func inApp(a *Alert, app string) string {
	if len(a.Apps) < 2 || app == "" {
		return ""
	}
	return " in " + escape(titleOf(a, app))
}

// who names a finding's person and account, escaped.
func who(f diff.Finding) string { return escape(report.WhoOf(f).String()) }

// Message renders the alert as a Block Kit message.
func Message(a *Alert) map[string]any {
	var appeared, escalated int
	for _, f := range a.Findings {
		if f.Change == "appeared" {
			appeared++
		} else {
			escalated++
		}
	}
	subject := "access findings"
	if app := apps(a); app != "" {
		subject = app + " access findings"
	}
	head := fmt.Sprintf("idgraph: %d new and %d escalated %s", appeared, escalated, subject)
	if len(a.Incomplete) > 0 {
		// Never a reassuring headline while a source is incomplete.
		unchecked := fmt.Sprintf("%s could not be re-checked", report.Plural(a.UnknownCount, strings.TrimSuffix(subject, "s"), subject))
		switch {
		case len(a.Findings) == 0 && a.UnknownCount == 0:
			// Nothing was carried (no complete read before): still no
			// reassurance, only what is known.
			var names []string
			for _, p := range a.Incomplete {
				names = append(names, p.Source)
			}
			verb := "was"
			if len(names) > 1 {
				verb = "were"
			}
			head = fmt.Sprintf("idgraph: %s %s incomplete: %s that depend on it could not be checked", report.List(names), verb, subject)
		case len(a.Findings) == 0:
			head = "idgraph: " + unchecked
		default:
			head += fmt.Sprintf("; %d could not be re-checked", a.UnknownCount)
		}
	}
	summary := fmt.Sprintf("Snapshot %d", a.Snapshot)
	if a.Baseline > 0 {
		summary += fmt.Sprintf(" compared with %d", a.Baseline)
	}
	summary += fmt.Sprintf(": *%d* appeared, *%d* escalated, *%d* resolved, *%d* privilege changes", appeared, escalated, a.Resolved, len(a.RoleChange))
	if len(a.Incomplete) > 0 {
		summary += fmt.Sprintf(", *%d* could not be re-checked", a.UnknownCount)
	}
	summary += "."
	blocks := []any{
		map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": cut(head, maxHeader)}},
		map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": summary}},
	}
	for _, p := range a.Incomplete {
		t := fmt.Sprintf(":warning: *%s was incomplete*: %s. %s on it could not be re-checked: they keep their last confirmed facts and none counts as resolved.",
			escape(p.Source), escape(strings.Join(p.Errors, "; ")), report.Plural(p.Findings, "finding that depends", "findings that depend"))
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": cut(t, maxSection)}})
	}
	if len(a.Findings) > 0 {
		blocks = append(blocks, map[string]any{"type": "divider"})
	}
	shown := a.Findings
	if len(shown) > maxItems {
		shown = shown[:maxItems]
	}
	for _, f := range shown {
		t := fmt.Sprintf("*%s* %s%s (%s) %s: %s", strings.ToUpper(f.Severity), f.Kind, inApp(a, f.App), f.Change, who(f.Finding), escape(f.Explanation))
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": cut(t, maxSection)}})
	}
	if n := len(a.Findings) - len(shown); n > 0 {
		blocks = append(blocks, map[string]any{"type": "context", "elements": []any{map[string]any{"type": "mrkdwn",
			"text": fmt.Sprintf("… and %d more findings in the access-review report.", n)}}})
	}
	if len(a.Unknown) > 0 {
		blocks = append(blocks, map[string]any{"type": "divider"},
			map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn",
				"text": fmt.Sprintf("*Could not be re-checked* (%d), shown as last confirmed:", a.UnknownCount)}})
		unk := a.Unknown
		if len(unk) > maxUnknown {
			unk = unk[:maxUnknown]
		}
		for _, f := range unk {
			when := "never confirmed"
			if f.LastConfirmed > 0 {
				when = fmt.Sprintf("last confirmed in snapshot %d", f.LastConfirmed)
			}
			if fs := report.FirstSeenText(f.Finding); fs != "" {
				when += ", " + fs
			}
			if len(f.Unchecked) > 0 {
				when += "; not re-checked: " + escape(report.List(f.Unchecked)) + " incomplete"
			}
			t := fmt.Sprintf("*%s* %s%s %s: %s — %s", strings.ToUpper(f.Severity), f.Kind, inApp(a, f.App), who(f.Finding), escape(f.Explanation), when)
			blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": cut(t, maxSection)}})
		}
		if n := a.UnknownCount - len(unk); n > 0 {
			blocks = append(blocks, map[string]any{"type": "context", "elements": []any{map[string]any{"type": "mrkdwn",
				"text": fmt.Sprintf("… and %d more that could not be re-checked, in the access-review report.", n)}}})
		}
	}
	if len(a.RoleChange) > 0 {
		var lines []string
		for i, c := range a.RoleChange {
			if i == 10 {
				lines = append(lines, fmt.Sprintf("… and %d more", len(a.RoleChange)-10))
				break
			}
			team := c.TeamName
			if team == "" {
				team = c.Team
			}
			// Where: the team, after the application's title when the
			// alert is about several or the application has no teams.
			where := escape(team)
			if app := a.SourceApps[c.Source]; app != "" && (len(a.Apps) > 1 || team == "") {
				where = strings.TrimSpace(escape(titleOf(a, app)) + " " + where)
			}
			lines = append(lines, fmt.Sprintf("• %s in %s: %s → %s", escape(report.Who{Email: c.Email, Account: c.Account}.String()), where, escape(c.From), escape(c.To)))
		}
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": cut("*New privilege*\n"+strings.Join(lines, "\n"), maxSection)}})
	}
	if len(blocks) > maxBlocks {
		blocks = blocks[:maxBlocks]
	}
	return map[string]any{"text": cut(head+". "+strings.ReplaceAll(summary, "*", ""), maxFallback), "blocks": blocks}
}

// Send posts the message.
func (s *Slack) Send(ctx context.Context, a *Alert, _ int64) error {
	body, err := json.Marshal(Message(a))
	if err != nil {
		return &permanent{err}
	}
	return post(ctx, s.Client, s.URL, body, nil)
}
