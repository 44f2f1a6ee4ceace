// Package alert tells the security team what appeared or changed since the
// last comparable run: through a Slack incoming webhook and a generic JSON
// webhook signed with HMAC-SHA256.
//
// A finding alerts once: a ledger in the store remembers what was alerted,
// and forgets a finding only when it is resolved, so a standing finding is
// not announced every night. Alerts go through an outbox in the store: a
// delivery that fails stays pending and is retried by the next run, and is
// logged every time; nothing is dropped silently.
package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/config"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/report"
	"github.com/idgraph/idgraph/store"
)

// Alert is what one run has to say. It is the generic webhook's body.
// Fields are only ever added.
type Alert struct {
	Version    int       `json:"version"`
	Snapshot   int64     `json:"snapshot"`
	Baseline   int64     `json:"baseline,omitempty"`
	FinishedAt time.Time `json:"finished_at"`
	Apps       []string  `json:"apps,omitempty"` // the applications read, short names
	// AppTitles gives each application's title, by short name, and
	// SourceApps the application each app source reads, so that a
	// receiver can name the application of a role change (its source).
	AppTitles  map[string]string `json:"app_titles,omitempty"`
	SourceApps map[string]string `json:"source_apps,omitempty"`
	Findings   []Item            `json:"findings"` // facts that appeared or escalated
	Resolved   int               `json:"resolved"`
	RoleChange []diff.Change     `json:"role_changes"`
	Incomplete []SourceProblem   `json:"incomplete_sources"`
	// UnknownCount is how many findings of the snapshot could not be
	// re-checked because a source they depend on was incomplete; Unknown
	// lists those at or above the alert's minimum severity, each with its
	// last-confirmed snapshot and first-seen. They are never facts.
	UnknownCount int    `json:"unknown_count"`
	Unknown      []Item `json:"unknown"`
	Report       string `json:"report,omitempty"`
}

// Item is one alerted finding.
type Item struct {
	// Change is "appeared" or "escalated" for a fact; for an unknown
	// finding, "carried" (open in the last complete snapshot, not
	// re-checked) or "unconfirmed" (found while a source was incomplete).
	Change string `json:"change"`
	diff.Finding
	// AppTitle is the title of the finding's application ("Notion").
	AppTitle string `json:"app_title,omitempty"`
}

// SourceProblem is an incomplete source.
type SourceProblem struct {
	Source   string   `json:"source"`
	Errors   []string `json:"errors"`
	Findings int      `json:"unknown_findings"` // findings it kept from being re-checked
}

// Empty reports whether there is nothing to say.
func (a *Alert) Empty() bool {
	return len(a.Findings) == 0 && a.Resolved == 0 && len(a.RoleChange) == 0 && len(a.Incomplete) == 0 && a.UnknownCount == 0
}

// Compose decides what a snapshot alerts about, against the ledger of what
// was alerted before. It returns the alert, the keys to record as alerted
// (with their severity) and the keys to forget (resolved).
//
// A finding with an approval in force (or an exception) does not alert; it
// also leaves the ledger, so that it alerts again once the approval expires.
func Compose(sum *store.Summary, fs []diff.Finding, drift *diff.Drift, ledger map[string]string, minSeverity string, decisions map[string]store.Decision) (*Alert, map[string]string, []string) {
	if minSeverity == "" {
		minSeverity = diff.SevMedium
	}
	a := &Alert{Version: 1, Snapshot: sum.ID, FinishedAt: sum.FinishedAt, Findings: []Item{}, RoleChange: []diff.Change{},
		Incomplete: []SourceProblem{}, Unknown: []Item{}}
	allComplete := true
	apps := report.Apps(sum.Sources)
	for _, app := range apps {
		a.Apps = append(a.Apps, app.Name)
		if a.AppTitles == nil {
			a.AppTitles = map[string]string{}
		}
		a.AppTitles[app.Name] = app.Title
	}
	slices.Sort(a.Apps)
	for _, s := range sum.Sources {
		if s.Info.Kind == collectors.KindApp && s.Info.App != "" {
			if a.SourceApps == nil {
				a.SourceApps = map[string]string{}
			}
			a.SourceApps[s.Info.Name] = s.Info.App
		}
	}
	item := func(change string, f diff.Finding) Item {
		return Item{Change: change, Finding: f, AppTitle: report.TitleIn(apps, f.App)}
	}
	for _, u := range report.IncompleteSources(sum.Sources, fs) {
		allComplete = false
		var errs []string
		for _, s := range sum.Sources {
			if s.Info.Name == u.Source {
				errs = s.Completeness.Errors
			}
		}
		if len(errs) == 0 {
			errs = []string{u.Problem}
		}
		a.Incomplete = append(a.Incomplete, SourceProblem{Source: u.Source, Errors: errs, Findings: u.Findings})
	}
	alerted := map[string]string{}
	present := map[string]bool{}
	var forget []string
	for _, f := range fs {
		present[f.Key] = true
		if f.State != diff.StateOpen {
			a.UnknownCount++
		}
		if d, ok := decisions[f.Key]; ok && (d.Decision == "approve" || d.Decision == "exception") && d.Active(sum.FinishedAt) {
			if _, seen := ledger[f.Key]; seen {
				forget = append(forget, f.Key)
			}
			continue
		}
		if f.State != diff.StateOpen {
			// Unknown: said apart from the facts, never alerted as new, and
			// its ledger entry kept, so that it neither re-alerts nor
			// counts as resolved when the source is back.
			if diff.SeverityRank(f.Severity) >= diff.SeverityRank(minSeverity) {
				change := "unconfirmed"
				if f.Carried {
					change = "carried"
				}
				a.Unknown = append(a.Unknown, item(change, f))
			}
			continue
		}
		if diff.SeverityRank(f.Severity) < diff.SeverityRank(minSeverity) {
			continue
		}
		prev, seen := ledger[f.Key]
		switch {
		case !seen:
			a.Findings = append(a.Findings, item("appeared", f))
			alerted[f.Key] = f.Severity
		case diff.SeverityRank(f.Severity) > diff.SeverityRank(prev):
			a.Findings = append(a.Findings, item("escalated", f))
			alerted[f.Key] = f.Severity
		}
	}
	var resolved []string
	if allComplete {
		// Only a run that read every source in full can say a finding is gone.
		for k := range ledger {
			if !present[k] {
				resolved = append(resolved, k)
			}
		}
	}
	slices.SortStableFunc(a.Unknown, func(x, y Item) int { return diff.SeverityRank(y.Severity) - diff.SeverityRank(x.Severity) })
	a.Resolved = len(resolved)
	resolved = append(resolved, forget...)
	if drift != nil {
		a.Baseline = drift.From
		// A role change alerts when it raises privilege in its application's
		// ladder (diff.Change.Raise); a downgrade is drift, not a risk.
		for _, c := range drift.RoleChanges {
			if c.Raise {
				a.RoleChange = append(a.RoleChange, c)
			}
		}
	}
	return a, alerted, resolved
}

// Sink delivers an alert.
type Sink interface {
	Name() string
	Send(ctx context.Context, a *Alert, deliveryID int64) error
}

// Sinks builds the configured sinks, reading their secrets.
func Sinks(cfg config.Alerts, file string, getenv func(string) string) ([]Sink, error) {
	need := func(key, env string) (string, error) {
		v := getenv(env)
		if v == "" {
			return "", &config.Error{Err: fmt.Errorf("%s: %s names environment variable %s, which is not set or empty", file, key, env)}
		}
		return v, nil
	}
	var out []Sink
	if s := cfg.Slack; s != nil {
		u, err := need("alerts.slack.webhook_url_env", s.WebhookURLEnv)
		if err != nil {
			return nil, err
		}
		out = append(out, &Slack{URL: u, Client: &http.Client{Timeout: 10 * time.Second}})
	}
	if w := cfg.Webhook; w != nil {
		u, err := need("alerts.webhook.url_env", w.URLEnv)
		if err != nil {
			return nil, err
		}
		k, err := need("alerts.webhook.secret_env", w.SecretEnv)
		if err != nil {
			return nil, err
		}
		out = append(out, &Webhook{URL: u, Key: []byte(k), Client: &http.Client{Timeout: 10 * time.Second}})
	}
	return out, nil
}

// Result says what Process did.
type Result struct {
	Queued    int
	Delivered int
	Pending   int // still pending after this run's attempts
}

// Process composes the alert of a fresh snapshot from its drift (nil
// without a comparable earlier snapshot, as the run computed it), queues it
// for every sink, and delivers everything pending, this run's and earlier
// ones'.
func Process(ctx context.Context, st *store.Store, snapshot int64, drift *diff.Drift, sinks []Sink, minSeverity string, log *slog.Logger) (Result, error) {
	var res Result
	if len(sinks) == 0 {
		return res, nil
	}
	sum, err := st.Get(ctx, snapshot)
	if err != nil {
		return res, err
	}
	fs, err := st.Findings(ctx, sum.ID)
	if err != nil {
		return res, err
	}
	ledger, err := st.Alerted(ctx)
	if err != nil {
		return res, err
	}
	decisions, _, err := st.Decisions(ctx, false)
	if err != nil {
		return res, err
	}
	a, alerted, resolved := Compose(sum, fs, drift, ledger, minSeverity, decisions)
	var out []store.Outbound
	if !a.Empty() {
		body, _ := json.Marshal(a)
		for _, s := range sinks {
			out = append(out, store.Outbound{Sink: s.Name(), Payload: string(body)})
		}
	}
	if err := st.Enqueue(ctx, sum.ID, out, alerted, resolved); err != nil {
		return res, err
	}
	res.Queued = len(out)
	pending, err := st.Pending(ctx)
	if err != nil {
		return res, err
	}
	byName := map[string]Sink{}
	for _, s := range sinks {
		byName[s.Name()] = s
	}
	for _, p := range pending {
		s, ok := byName[p.Sink]
		if !ok {
			log.Warn("an undelivered alert waits for a sink that is no longer configured", "sink", p.Sink, "snapshot", p.SnapshotID)
			res.Pending++
			continue
		}
		var al Alert
		if err := json.Unmarshal([]byte(p.Payload), &al); err != nil {
			return res, fmt.Errorf("alert %d in the outbox is corrupt: %w", p.ID, err)
		}
		attempts, err := deliver(ctx, s, &al, p.ID)
		if merr := st.MarkDelivery(ctx, p.ID, attempts, err); merr != nil {
			return res, merr
		}
		if err != nil {
			res.Pending++
			log.Error("alert delivery failed; it stays pending and the next run retries it", "sink", p.Sink, "snapshot", p.SnapshotID,
				"attempts", p.Attempts+attempts, "error", err)
			continue
		}
		res.Delivered++
		log.Info("alert delivered", "sink", p.Sink, "snapshot", p.SnapshotID, "findings", len(al.Findings))
	}
	return res, nil
}

// deliver tries a few times with backoff and jitter, bounded.
func deliver(ctx context.Context, s Sink, a *Alert, id int64) (int, error) {
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		if err = s.Send(ctx, a, id); err == nil {
			return attempt, nil
		}
		var pe *permanent
		if errors.As(err, &pe) || attempt == 3 {
			return attempt, err
		}
		d := time.Duration(250<<attempt)*time.Millisecond + time.Duration(rand.Int64N(int64(250*time.Millisecond)))
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return attempt, ctx.Err()
		}
	}
	return 3, err
}

// permanent marks an answer that a retry within this run cannot change.
type permanent struct{ error }

func post(ctx context.Context, c *http.Client, url string, body []byte, hdr map[string]string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return &permanent{fmt.Errorf("building the request: %v", redactURL(err.Error(), url))}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "idgraph")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		// The URL of a webhook is its secret: never print it.
		return errors.New(redactURL(err.Error(), url))
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("the endpoint answered %d %s", resp.StatusCode, strings.TrimSpace(string(msg)))
	default:
		return &permanent{fmt.Errorf("the endpoint refused the alert: %d %s", resp.StatusCode, strings.TrimSpace(string(msg)))}
	}
}

func redactURL(s, url string) string {
	if url == "" {
		return s
	}
	return strings.ReplaceAll(s, url, "[webhook URL]")
}

// Webhook posts the alert as JSON, signed: X-Idgraph-Signature is
// "sha256=" + hex(HMAC-SHA256(key, timestamp + "." + body)) with the
// timestamp in X-Idgraph-Timestamp, so that a receiver can reject forged
// and replayed deliveries. X-Idgraph-Delivery identifies a delivery across
// retries.
type Webhook struct {
	URL    string
	Key    []byte
	Client *http.Client
	Now    func() time.Time
}

// Name names the sink.
func (w *Webhook) Name() string { return "webhook" }

// Send posts the alert.
func (w *Webhook) Send(ctx context.Context, a *Alert, id int64) error {
	body, err := json.Marshal(a)
	if err != nil {
		return &permanent{err}
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ts := strconv.FormatInt(now().Unix(), 10)
	return post(ctx, w.Client, w.URL, body, map[string]string{
		"X-Idgraph-Timestamp": ts, "X-Idgraph-Signature": Sign(w.Key, ts, body), "X-Idgraph-Delivery": strconv.FormatInt(id, 10)})
}

// Sign computes the webhook signature.
func Sign(key []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature in constant time, and that the timestamp is
// within tolerance of now.
func Verify(key []byte, ts, sig string, body []byte, now time.Time, tolerance time.Duration) bool {
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(t, 0)).Abs() > tolerance {
		return false
	}
	return hmac.Equal([]byte(Sign(key, ts, body)), []byte(sig))
}
