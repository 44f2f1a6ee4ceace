package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/idgraph/idgraph/review"
	"github.com/idgraph/idgraph/store"
)

// Reminders of review campaigns (docs/RULES.md, "Review"): one message per
// reviewer who has overdue items, or undecided items due within a day,
// through the same sinks as the alerts (Slack, the signed webhook).

// Reminder is one reviewer's reminder: the webhook's body. Fields are only
// ever added.
type Reminder struct {
	Version   int            `json:"version"`
	Type      string         `json:"type"` // "review_reminder", apart from alerts
	Campaign  int64          `json:"campaign"`
	Apps      []string       `json:"apps"`
	Reviewer  string         `json:"reviewer"`
	Due       time.Time      `json:"due"`
	Overdue   int            `json:"overdue"`
	DueSoon   int            `json:"due_soon"`  // not decided, due within a day
	Undecided int            `json:"undecided"` // every item of theirs not decided yet
	Items     []ReminderItem `json:"items"`     // the first maxItems of them
	URL       string         `json:"url,omitempty"`
}

// ReminderItem is one item a reminder names.
type ReminderItem struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Email    string `json:"email"`
	Severity string `json:"severity"`
	State    string `json:"state"`
	Overdue  bool   `json:"overdue"`
}

// Reminders composes the reminders of a campaign as of now: one per
// reviewer with an overdue item or an undecided item due within a day,
// in reviewer order. A signed-off campaign reminds nobody.
func Reminders(rv *store.CampaignReview, now time.Time, url string) []Reminder {
	if rv.SignedOff || !rv.Campaign.Open() {
		return nil
	}
	by := map[string]*Reminder{}
	for _, it := range rv.Items {
		if it.State == review.StateDecided {
			continue
		}
		r := by[it.Reviewer]
		if r == nil {
			r = &Reminder{Version: 1, Type: "review_reminder", Campaign: rv.Campaign.ID, Apps: rv.Campaign.Apps, Reviewer: it.Reviewer,
				Due: rv.Campaign.Due, Items: []ReminderItem{}, URL: url}
			by[it.Reviewer] = r
		}
		r.Undecided++
		over := review.Overdue(it.State, rv.Campaign.Due, now)
		switch {
		case over:
			r.Overdue++
		case review.DueSoon(it.State, rv.Campaign.Due, now):
			r.DueSoon++
		}
		if len(r.Items) < maxItems {
			r.Items = append(r.Items, ReminderItem{ID: it.ID, Kind: it.Finding.Kind, Email: it.Email, Severity: it.Finding.Severity, State: it.State, Overdue: over})
		}
	}
	var out []Reminder
	for _, who := range rv.Reviewers {
		if r := by[who]; r != nil && r.Overdue+r.DueSoon > 0 {
			out = append(out, *r)
		}
	}
	return out
}

// Text is the reminder in one line, for a dry run and the Slack fallback.
func (r *Reminder) Text() string {
	var what []string
	if r.Overdue > 0 {
		what = append(what, fmt.Sprintf("%d overdue", r.Overdue))
	}
	if r.DueSoon > 0 {
		what = append(what, fmt.Sprintf("%d due within a day", r.DueSoon))
	}
	return fmt.Sprintf("%s: access review campaign %d (%s) due %s: %s of %d undecided items",
		r.Reviewer, r.Campaign, strings.Join(r.Apps, ", "), r.Due.UTC().Format("2006-01-02 15:04 UTC"), strings.Join(what, " and "), r.Undecided)
}

// reminderMessage is the Slack Block Kit message of a reminder.
func reminderMessage(r *Reminder) map[string]any {
	var lines []string
	for _, it := range r.Items {
		l := fmt.Sprintf("• `%s` %s %s (%s)", escape(it.ID), escape(it.Kind), escape(it.Email), escape(it.Severity))
		if it.Overdue {
			l += " *overdue*"
		}
		lines = append(lines, l)
	}
	if n := r.Undecided - len(r.Items); n > 0 {
		lines = append(lines, fmt.Sprintf("… and %d more", n))
	}
	body := cut(strings.Join(lines, "\n"), maxSection)
	head := cut(fmt.Sprintf("Access review: %d items wait for %s", r.Undecided, r.Reviewer), maxHeader)
	blocks := []any{
		map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": head}},
		map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": escape(r.Text())}},
	}
	if body != "" {
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": body}})
	}
	if r.URL != "" {
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "<" + escape(r.URL) + "|Open my reviews>"}})
	}
	return map[string]any{"text": cut(escape(r.Text()), maxFallback), "blocks": blocks}
}

// SendReminder delivers one reminder through every sink, trying each a
// few times; it returns the first error (every sink is tried). A webhook
// delivery is signed as alerts are, with X-Idgraph-Delivery naming the
// campaign, the reviewer and the moment, and X-Idgraph-Event
// "review_reminder", so that a receiver tells it from an alert.
func SendReminder(ctx context.Context, sinks []Sink, r *Reminder, now time.Time) error {
	var errs []error
	for _, s := range sinks {
		var send func() error
		switch s := s.(type) {
		case *Slack:
			body, err := json.Marshal(reminderMessage(r))
			if err != nil {
				return err
			}
			send = func() error { return post(ctx, s.Client, s.URL, body, nil) }
		case *Webhook:
			body, err := json.Marshal(r)
			if err != nil {
				return err
			}
			clock := time.Now
			if s.Now != nil {
				clock = s.Now
			}
			send = func() error {
				ts := strconv.FormatInt(clock().Unix(), 10)
				return post(ctx, s.Client, s.URL, body, map[string]string{"X-Idgraph-Timestamp": ts, "X-Idgraph-Signature": Sign(s.Key, ts, body),
					"X-Idgraph-Event": r.Type, "X-Idgraph-Delivery": fmt.Sprintf("campaign-%d-%s-%d", r.Campaign, r.Reviewer, now.Unix())})
			}
		default:
			errs = append(errs, fmt.Errorf("sink %s cannot send reminders", s.Name()))
			continue
		}
		if err := retry(ctx, send); err != nil {
			errs = append(errs, fmt.Errorf("reminder to %s through %s: %w", r.Reviewer, s.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// retry tries send up to three times, as deliver does for alerts.
func retry(ctx context.Context, send func() error) error {
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		if err = send(); err == nil {
			return nil
		}
		var pe *permanent
		if errors.As(err, &pe) || attempt == 3 {
			return err
		}
		select {
		case <-time.After(time.Duration(250<<attempt) * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return err
}
