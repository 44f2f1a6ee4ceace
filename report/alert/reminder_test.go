package alert

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/review"
	"github.com/idgraph/idgraph/store"
)

func campaignReview(due time.Time) *store.CampaignReview {
	item := func(id, reviewer, state string) store.ItemReview {
		return store.ItemReview{CampaignItem: store.CampaignItem{ID: id, Reviewer: reviewer, Email: id + "@acme.com",
			Finding: diff.Finding{Kind: "orphaned", Severity: "high"}}, State: state}
	}
	return &store.CampaignReview{
		Campaign:  &store.Campaign{ID: 7, Apps: []string{"stonly"}, Due: due},
		Reviewers: []string{"ann@acme.com", "ben@acme.com", "cy@acme.com"},
		Items: []store.ItemReview{
			item("a1", "ann@acme.com", review.StateUndecided),
			item("a2", "ann@acme.com", review.StatePending),
			item("b1", "ben@acme.com", review.StateDecided), // ben has nothing left
			item("c1", "cy@acme.com", review.StateUndecided),
		},
	}
}

func TestReminders(t *testing.T) {
	due := time.Date(2026, 12, 8, 23, 59, 59, 0, time.UTC)
	for _, tc := range []struct {
		name string
		now  time.Time
		want map[string][2]int // reviewer -> overdue, due soon
	}{
		{"a week ahead", due.Add(-7 * 24 * time.Hour), map[string][2]int{}},
		{"due within a day", due.Add(-2 * time.Hour), map[string][2]int{"ann@acme.com": {0, 2}, "cy@acme.com": {0, 1}}},
		{"overdue", due.Add(time.Hour), map[string][2]int{"ann@acme.com": {2, 0}, "cy@acme.com": {1, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string][2]int{}
			for _, r := range Reminders(campaignReview(due), tc.now, "") {
				got[r.Reviewer] = [2]int{r.Overdue, r.DueSoon}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("reminders = %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s: overdue, due soon = %v, want %v", k, got[k], v)
				}
			}
		})
	}
	signed := campaignReview(due)
	signed.SignedOff = true
	if rs := Reminders(signed, due.Add(time.Hour), ""); len(rs) != 0 {
		t.Fatalf("a signed-off campaign reminded %d reviewers", len(rs))
	}
}

func TestSendReminderThroughSlackAndWebhook(t *testing.T) {
	type got struct {
		path string
		hdr  http.Header
		body []byte
	}
	var mu sync.Mutex
	var reqs []got
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs = append(reqs, got{r.URL.Path, r.Header.Clone(), b})
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	due := time.Date(2026, 12, 8, 23, 59, 59, 0, time.UTC)
	now := due.Add(time.Hour)
	key := []byte("webhook-secret")
	sinks := []Sink{&Slack{URL: srv.URL + "/slack", Client: srv.Client()}, &Webhook{URL: srv.URL + "/hook", Key: key, Client: srv.Client(), Now: func() time.Time { return now }}}
	rs := Reminders(campaignReview(due), now, "https://idgraph.example/reviews")
	if len(rs) != 2 {
		t.Fatalf("%d reminders, want 2", len(rs))
	}
	for i := range rs {
		if err := SendReminder(context.Background(), sinks, &rs[i], now); err != nil {
			t.Fatal(err)
		}
	}
	if len(reqs) != 4 {
		t.Fatalf("%d deliveries, want 4 (2 reviewers x 2 sinks)", len(reqs))
	}
	for _, r := range reqs {
		switch r.path {
		case "/slack":
			var m struct {
				Text   string           `json:"text"`
				Blocks []map[string]any `json:"blocks"`
			}
			if err := json.Unmarshal(r.body, &m); err != nil || !strings.Contains(m.Text, "overdue") || len(m.Blocks) < 3 {
				t.Fatalf("Slack message = %s (%v)", r.body, err)
			}
		case "/hook":
			ts, sig := r.hdr.Get("X-Idgraph-Timestamp"), r.hdr.Get("X-Idgraph-Signature")
			if !Verify(key, ts, sig, r.body, now, time.Minute) || r.hdr.Get("X-Idgraph-Event") != "review_reminder" {
				t.Fatalf("webhook delivery not signed as alerts are: %v", r.hdr)
			}
			var rem Reminder
			if err := json.Unmarshal(r.body, &rem); err != nil || rem.Campaign != 7 || rem.Overdue == 0 || rem.URL == "" {
				t.Fatalf("webhook body = %s (%v)", r.body, err)
			}
		default:
			t.Fatalf("delivery to %s", r.path)
		}
	}
	// A refusing endpoint is an error that names the reviewer, not the URL.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusForbidden) }))
	defer bad.Close()
	err := SendReminder(context.Background(), []Sink{&Slack{URL: bad.URL + "/secret-path", Client: bad.Client()}}, &rs[0], now)
	if err == nil || !strings.Contains(err.Error(), rs[0].Reviewer) || strings.Contains(err.Error(), "secret-path") {
		t.Fatalf("refused delivery: %v", err)
	}
}
