package alert_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idgraph/idgraph/collectors"
	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/pipeline/pipelinetest"
	"github.com/idgraph/idgraph/report/alert"
	"github.com/idgraph/idgraph/store"
)

// receiver is a local endpoint that records deliveries and fails the
// first `fail` of them with 500.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	heads  []http.Header
	fail   int
}

func newReceiver(fail int) *receiver {
	r := &receiver{fail: fail}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.fail > 0 {
			r.fail--
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		r.bodies = append(r.bodies, b)
		r.heads = append(r.heads, req.Header.Clone())
	}))
	return r
}

func (r *receiver) got() ([][]byte, []http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte{}, r.bodies...), append([]http.Header{}, r.heads...)
}

type env struct {
	t      *testing.T
	q      *pipelinetest.Quickstart
	st     *store.Store
	stonly string
}

func newEnv(t *testing.T) *env {
	q := pipelinetest.New(t)
	return &env{t: t, q: q, st: q.Store(t), stonly: q.Stonly}
}

func (e *env) run(sinks []alert.Sink) alert.Result {
	e.t.Helper()
	out, err := e.q.Run(context.Background(), e.st)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := alert.Process(context.Background(), e.st, out.Snapshot.ID, out.Drift, sinks, "", slog.New(slog.DiscardHandler))
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func TestWebhookSignedRetriedAndOnce(t *testing.T) {
	e := newEnv(t)
	rcv := newReceiver(1) // the first attempt fails with 500
	defer rcv.Close()
	key := []byte("hmac-key-for-tests")
	sinks := []alert.Sink{&alert.Webhook{URL: rcv.URL, Key: key, Client: http.DefaultClient}}
	res := e.run(sinks)
	if res.Delivered != 1 || res.Pending != 0 {
		t.Fatalf("first run: %+v (a 500 must be retried within the run)", res)
	}
	bodies, heads := rcv.got()
	if len(bodies) != 1 {
		t.Fatalf("%d deliveries", len(bodies))
	}
	h := heads[0]
	if !alert.Verify(key, h.Get("X-Idgraph-Timestamp"), h.Get("X-Idgraph-Signature"), bodies[0], time.Now(), time.Minute) {
		t.Fatal("the HMAC signature does not verify")
	}
	if alert.Verify([]byte("other key"), h.Get("X-Idgraph-Timestamp"), h.Get("X-Idgraph-Signature"), bodies[0], time.Now(), time.Minute) ||
		alert.Verify(key, h.Get("X-Idgraph-Timestamp"), h.Get("X-Idgraph-Signature"), append(bodies[0], ' '), time.Now(), time.Minute) {
		t.Fatal("a wrong key or a changed body must not verify")
	}
	var a alert.Alert
	json.Unmarshal(bodies[0], &a)
	if len(a.Findings) == 0 || a.Findings[0].Severity != "critical" {
		t.Errorf("alert %+v", a)
	}
	// The same standing findings the next night: nothing new to say.
	if res := e.run(sinks); res.Queued != 0 {
		t.Fatalf("second run queued %d alerts for standing findings", res.Queued)
	}
	// A new leaver appears: exactly that is alerted.
	b, _ := os.ReadFile(e.stonly)
	os.WriteFile(e.stonly, append(b, []byte("newcomer@gmail.com,New Comer,Admin,active,t-sales,Sales Playbooks\n")...), 0o600)
	if res := e.run(sinks); res.Queued != 1 || res.Delivered != 1 {
		t.Fatalf("third run: %+v", res)
	}
	bodies, _ = rcv.got()
	json.Unmarshal(bodies[len(bodies)-1], &a)
	if len(a.Findings) != 1 || a.Findings[0].Email != "newcomer@gmail.com" {
		t.Errorf("third alert: %+v", a.Findings)
	}
}

func TestFailedDeliveryIsRetriedNextRun(t *testing.T) {
	e := newEnv(t)
	rcv := newReceiver(3) // every attempt of the first run fails
	defer rcv.Close()
	sinks := []alert.Sink{&alert.Webhook{URL: rcv.URL, Key: []byte("k"), Client: http.DefaultClient}}
	if res := e.run(sinks); res.Delivered != 0 || res.Pending != 1 {
		t.Fatalf("first run %+v: want the alert kept pending", res)
	}
	if res := e.run(sinks); res.Delivered != 1 || res.Pending != 0 || res.Queued != 0 {
		t.Fatalf("second run %+v: want the pending alert delivered, and nothing new", res)
	}
	if b, _ := rcv.got(); len(b) != 1 {
		t.Fatalf("%d deliveries", len(b))
	}
}

func TestSlackMessage(t *testing.T) {
	e := newEnv(t)
	rcv := newReceiver(0)
	defer rcv.Close()
	b, _ := os.ReadFile(e.stonly)
	hostile := "aaa@evil.com,\"<!channel> & <https://evil|click> *bold*\",Admin,active,t1,Team\n"
	var many strings.Builder
	for i := 0; i < 40; i++ {
		many.WriteString("extra" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "@gmail.com,Extra,Admin,active,t1,Team\n")
	}
	os.WriteFile(e.stonly, append(b, []byte(hostile+many.String())...), 0o600)
	e.run([]alert.Sink{&alert.Slack{URL: rcv.URL, Client: http.DefaultClient}})
	bodies, _ := rcv.got()
	if len(bodies) != 1 {
		t.Fatalf("%d deliveries", len(bodies))
	}
	var msg struct {
		Text   string           `json:"text"`
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(bodies[0], &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Text == "" || len(msg.Blocks) == 0 || len(msg.Blocks) > 50 || msg.Blocks[0]["type"] != "header" {
		t.Fatalf("not a Block Kit message: %s", bodies[0])
	}
	var texts strings.Builder
	for _, bl := range msg.Blocks {
		if txt, ok := bl["text"].(map[string]any); ok {
			texts.WriteString(txt["text"].(string) + "\n")
		}
		if els, ok := bl["elements"].([]any); ok {
			for _, el := range els {
				texts.WriteString(el.(map[string]any)["text"].(string) + "\n")
			}
		}
	}
	raw := texts.String()
	if strings.Contains(raw, "<!channel>") || strings.Contains(raw, "<https://evil") {
		t.Error("Slack control sequences in source text must be escaped (& < >)")
	}
	if !strings.Contains(raw, "&lt;!channel&gt; &amp; &lt;https://evil|click&gt;") {
		t.Error("the escaped text should still be shown")
	}
	if !strings.Contains(raw, "more findings in the access-review report") {
		t.Error("many findings must be summarised with a count")
	}
	for _, bl := range msg.Blocks {
		if txt, ok := bl["text"].(map[string]any); ok && len([]rune(txt["text"].(string))) > 3000 {
			t.Error("a section exceeds Slack's 3000 characters")
		}
	}
}

// failedSnapshot is the snapshot after id when every source failed, as the
// pipeline records it (docs/RULES.md, "Nothing vanishes because a source
// failed"): each open finding of id carried as unknown, with id as the
// snapshot it was last confirmed in and the sources that kept it from
// being re-checked.
func failedSnapshot(t *testing.T, st *store.Store, id int64) (*store.Summary, []diff.Finding) {
	t.Helper()
	prev, err := st.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := st.Findings(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	sum := *prev
	sum.ID, sum.Complete, sum.FinishedAt = id+1, false, prev.FinishedAt.Add(24*time.Hour)
	sum.Sources = nil
	for _, s := range prev.Sources {
		s.Completeness.Complete, s.Completeness.Records = false, 0
		s.Completeness.Errors = []string{s.Info.Name + ": connection refused"}
		sum.Sources = append(sum.Sources, s)
	}
	var out []diff.Finding
	for _, f := range fs {
		if f.State != diff.StateOpen {
			continue
		}
		f.State, f.Carried, f.LastConfirmed, f.Unchecked = diff.StateUnknown, true, id, f.DependsOn
		out = append(out, f)
	}
	return &sum, out
}

// slackText is every text of a Block Kit message, as Slack would show it.
func slackText(t *testing.T, body []byte) (head, all string) {
	t.Helper()
	var msg struct {
		Text   string           `json:"text"`
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		t.Fatal(err)
	}
	if len(msg.Blocks) == 0 || len(msg.Blocks) > 50 || msg.Blocks[0]["type"] != "header" {
		t.Fatalf("not a Block Kit message: %s", body)
	}
	var b strings.Builder
	b.WriteString(msg.Text + "\n")
	for _, bl := range msg.Blocks {
		if txt, ok := bl["text"].(map[string]any); ok {
			b.WriteString(txt["text"].(string) + "\n")
		}
		if els, ok := bl["elements"].([]any); ok {
			for _, el := range els {
				b.WriteString(el.(map[string]any)["text"].(string) + "\n")
			}
		}
	}
	return msg.Blocks[0]["text"].(map[string]any)["text"].(string), b.String()
}

var reassuring = regexp.MustCompile(`(?i)no findings|everything matches|all clear|nothing (new|to report)`)

func TestAlertsOfASnapshotWhoseSourcesAllFailed(t *testing.T) {
	e := newEnv(t)
	first := newReceiver(0)
	defer first.Close()
	e.run([]alert.Sink{&alert.Webhook{URL: first.URL, Key: []byte("k"), Client: http.DefaultClient}}) // fills the ledger
	ledger, err := e.st.Alerted(context.Background())
	if err != nil || len(ledger) == 0 {
		t.Fatalf("ledger %v, %v", ledger, err)
	}
	sum, fs := failedSnapshot(t, e.st, 1)
	a, alerted, forget := alert.Compose(sum, fs, nil, ledger, "", nil)
	if len(a.Findings) != 0 || a.Resolved != 0 || len(alerted) != 0 || len(forget) != 0 {
		t.Fatalf("a failed run alerted facts or resolutions: %d findings, %d resolved, alerted %v, forgot %v", len(a.Findings), a.Resolved, alerted, forget)
	}
	if a.UnknownCount != len(fs) || len(a.Unknown) == 0 || len(a.Incomplete) != 3 {
		t.Fatalf("unknown %d of %d, listed %d, incomplete %+v", a.UnknownCount, len(fs), len(a.Unknown), a.Incomplete)
	}

	// The webhook's JSON, as delivered.
	rcv := newReceiver(0)
	defer rcv.Close()
	if err := (&alert.Webhook{URL: rcv.URL, Key: []byte("k"), Client: http.DefaultClient}).Send(context.Background(), a, 7); err != nil {
		t.Fatal(err)
	}
	if err := (&alert.Slack{URL: rcv.URL, Client: http.DefaultClient}).Send(context.Background(), a, 7); err != nil {
		t.Fatal(err)
	}
	bodies, _ := rcv.got()
	var hook struct {
		Findings     []map[string]any `json:"findings"`
		UnknownCount int              `json:"unknown_count"`
		Unknown      []map[string]any `json:"unknown"`
		Incomplete   []struct {
			Source   string   `json:"source"`
			Errors   []string `json:"errors"`
			Findings int      `json:"unknown_findings"`
		} `json:"incomplete_sources"`
		Apps []string `json:"apps"`
	}
	if err := json.Unmarshal(bodies[0], &hook); err != nil {
		t.Fatal(err)
	}
	if len(hook.Findings) != 0 || hook.UnknownCount != len(fs) || len(hook.Apps) != 1 || hook.Apps[0] != "stonly" {
		t.Errorf("webhook body: %s", bodies[0])
	}
	for _, u := range hook.Unknown {
		if u["change"] != "carried" || u["state"] != "unknown" || u["carried"] != true || u["last_confirmed_snapshot"] != float64(1) ||
			u["first_seen_snapshot"] != float64(1) || u["first_seen"] == "" || len(u["unchecked"].([]any)) == 0 {
			t.Errorf("unknown finding without its history: %v", u)
		}
		if diff.SeverityRank(u["severity"].(string)) < diff.SeverityRank(diff.SevMedium) {
			t.Errorf("a %s finding is listed below the alert's minimum severity", u["severity"])
		}
	}
	for _, p := range hook.Incomplete {
		if len(p.Errors) == 0 || p.Errors[0] != p.Source+": connection refused" || p.Findings == 0 {
			t.Errorf("incomplete source without its error or count: %+v", p)
		}
	}

	// Slack says how many and why, and names each one.
	head, text := slackText(t, bodies[1])
	if want := fmt.Sprintf("idgraph: %d Stonly access findings could not be re-checked", len(fs)); head != want {
		t.Errorf("header %q, want %q", head, want)
	}
	for _, s := range sum.Sources {
		if !strings.Contains(text, "*"+s.Info.Name+" was incomplete*: "+s.Info.Name+": connection refused") {
			t.Errorf("Slack does not say that %s was incomplete, and why", s.Info.Name)
		}
	}
	bob := a.Unknown[0]
	for _, w := range []string{"*Could not be re-checked* (" + fmt.Sprint(len(fs)) + ")",
		"*CRITICAL* orphaned Bob Leaver &lt;bob@acme.com&gt; (" + bob.Account + "): ",
		"last confirmed in snapshot 1, first seen in snapshot 1 on " + bob.FirstSeen.UTC().Format("2006-01-02")} {
		if !strings.Contains(text, w) {
			t.Errorf("Slack does not say %q:\n%s", w, text)
		}
	}
	if m := reassuring.FindString(text); m != "" {
		t.Errorf("Slack says %q of a run whose sources failed", m)
	}
}

func TestAlertsOfACompleteSnapshot(t *testing.T) {
	e := newEnv(t)
	rcv := newReceiver(0)
	defer rcv.Close()
	e.run([]alert.Sink{&alert.Slack{URL: rcv.URL, Client: http.DefaultClient}, &alert.Webhook{URL: rcv.URL, Key: []byte("k"), Client: http.DefaultClient}})
	bodies, heads := rcv.got()
	if len(bodies) != 2 {
		t.Fatalf("%d deliveries", len(bodies))
	}
	slack, hook := bodies[0], bodies[1]
	if heads[0].Get("X-Idgraph-Signature") != "" {
		slack, hook = hook, slack
	}
	head, text := slackText(t, slack)
	if !strings.HasPrefix(head, "idgraph: ") || !strings.Contains(head, " new and 0 escalated Stonly access findings") {
		t.Errorf("header %q", head)
	}
	if strings.Contains(text, "re-checked") || strings.Contains(text, "incomplete") {
		t.Errorf("a complete run speaks of unknown findings:\n%s", text)
	}
	if !strings.Contains(text, "*CRITICAL* orphaned (appeared) Bob Leaver &lt;bob@acme.com&gt; (stonly:t-support:bob@acme.com): ") {
		t.Errorf("Slack does not name the person and the account:\n%s", text)
	}
	var a struct {
		UnknownCount *int             `json:"unknown_count"`
		Unknown      []map[string]any `json:"unknown"`
		Findings     []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal(hook, &a); err != nil {
		t.Fatal(err)
	}
	if a.UnknownCount == nil || *a.UnknownCount != 0 || a.Unknown == nil || len(a.Unknown) != 0 || len(a.Findings) == 0 {
		t.Errorf("webhook body of a complete run: %s", hook)
	}
}

// TestAlertWhenASourceFails: a run whose app export is gone alerts that
// it was incomplete and which findings could not be re-checked (the
// pipeline carries them), never anything reassuring, and resolves nothing.
func TestAlertWhenASourceFails(t *testing.T) {
	e := newEnv(t)
	rcv := newReceiver(0)
	defer rcv.Close()
	sinks := []alert.Sink{&alert.Slack{URL: rcv.URL, Client: http.DefaultClient}}
	e.run(sinks)
	if err := os.Remove(e.stonly); err != nil {
		t.Fatal(err)
	}
	e.run(sinks)
	bodies, _ := rcv.got()
	if len(bodies) != 2 {
		t.Fatalf("%d deliveries", len(bodies))
	}
	head, text := slackText(t, bodies[1])
	if !regexp.MustCompile(`^idgraph: [1-9]\d* Stonly access findings could not be re-checked$`).MatchString(head) ||
		!strings.Contains(text, "*stonly was incomplete*") || !strings.Contains(text, "*0* resolved") ||
		!strings.Contains(text, "*CRITICAL* orphaned Bob Leaver &lt;bob@acme.com&gt; (stonly:t-support:bob@acme.com): ") {
		t.Errorf("the alert of a failed read:\n%s", text)
	}
	if m := reassuring.FindString(text); m != "" {
		t.Errorf("Slack says %q of a run whose app source failed", m)
	}
}

// TestSlackHeaderOfAFailedFirstRun: with nothing to carry, the message
// still says what failed and that nothing could be checked.
func TestSlackHeaderOfAFailedFirstRun(t *testing.T) {
	sum := &store.Summary{ID: 1, Sources: []store.Source{
		{Info: collectors.Info{Name: "okta", Kind: collectors.KindIdP}, Completeness: collectors.Completeness{Errors: []string{"okta: 401 Invalid token provided"}}},
		{Info: collectors.Info{Name: "stonly", Kind: collectors.KindApp, App: "stonly"}, Completeness: collectors.Completeness{Complete: true}},
	}}
	a, _, _ := alert.Compose(sum, nil, nil, map[string]string{}, "", nil)
	if a.Empty() {
		t.Fatal("an incomplete run has nothing to say")
	}
	b, _ := json.Marshal(alert.Message(a))
	head, text := slackText(t, b)
	if head != "idgraph: okta was incomplete: Stonly access findings that depend on it could not be checked" {
		t.Errorf("header %q", head)
	}
	if !strings.Contains(text, "*okta was incomplete*: okta: 401 Invalid token provided.") || reassuring.MatchString(text) {
		t.Errorf("message:\n%s", text)
	}
}

// TestAlertsNameTheApplication: with two applications every line names
// its application by the title the sources declared, the webhook body
// carries app_title beside the existing fields, and only a role change
// that raises privilege in its application's ladder is alerted.
func TestAlertsNameTheApplication(t *testing.T) {
	app := func(name, app, title string) store.Source {
		return store.Source{Info: collectors.Info{Name: name, Kind: collectors.KindApp, App: app, Title: title}, Completeness: collectors.Completeness{Complete: true}}
	}
	idp := store.Source{Info: collectors.Info{Name: "okta", Kind: collectors.KindIdP}, Completeness: collectors.Completeness{Complete: true}}
	fs := []diff.Finding{
		{Key: "orphaned/wiki/p1", Kind: diff.KindOrphaned, Severity: diff.SevCritical, State: diff.StateOpen, App: "wiki", Email: "bob@acme.com", Explanation: "inactive in okta"},
		{Key: "orphaned/notes/p1", Kind: diff.KindOrphaned, Severity: diff.SevHigh, State: diff.StateOpen, App: "notes", Email: "bob@acme.com", Explanation: "inactive in okta"},
	}
	drift := &diff.Drift{From: 1, To: 2, RoleChanges: []diff.Change{
		{Account: "notes-scim:dan@acme.com", Source: "notes-scim", Email: "dan@acme.com", From: "Reader", To: "Workspace Owner", Raise: true},
		{Account: "wiki:t1:ann@acme.com", Source: "wiki", Team: "t1", TeamName: "Handbook", Email: "ann@acme.com", From: "Owner", To: "Member"},
	}}
	tests := []struct {
		name    string
		sources []store.Source
		fs      []diff.Finding
		want    []string // in the Slack message
		not     []string
		titles  map[string]string // app -> app_title of its item
	}{
		{"two applications", []store.Source{idp, app("notes-scim", "notes", "Notes Cloud"), app("wiki", "wiki", "Team Wiki")}, fs,
			[]string{"Notes Cloud and Team Wiki access findings", "*CRITICAL* orphaned in Team Wiki (appeared)", "*HIGH* orphaned in Notes Cloud (appeared)",
				"(notes-scim:dan@acme.com) in Notes Cloud: Reader → Workspace Owner"},
			[]string{"ann@acme.com"}, map[string]string{"wiki": "Team Wiki", "notes": "Notes Cloud"}},
		{"one application: lines as before", []store.Source{idp, app("wiki", "wiki", "Team Wiki")}, fs[:1],
			[]string{"1 new and 0 escalated Team Wiki access findings", "*CRITICAL* orphaned (appeared)"},
			[]string{"orphaned in Team Wiki"}, map[string]string{"wiki": "Team Wiki"}},
		{"no title recorded: the name capitalised", []store.Source{idp, app("wiki", "wiki", "")}, fs[:1],
			[]string{"Wiki access findings"}, nil, map[string]string{"wiki": "Wiki"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum := &store.Summary{ID: 2, Complete: true, Sources: tt.sources}
			a, _, _ := alert.Compose(sum, tt.fs, drift, map[string]string{}, "", nil)
			body, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			var wire struct {
				Apps      []string          `json:"apps"`
				AppTitles map[string]string `json:"app_titles"`
				Findings  []map[string]any  `json:"findings"`
				Roles     []map[string]any  `json:"role_changes"`
			}
			if err := json.Unmarshal(body, &wire); err != nil {
				t.Fatal(err)
			}
			for _, f := range wire.Findings {
				app, _ := f["app"].(string)
				if f["app_title"] != tt.titles[app] || f["kind"] == nil || f["change"] == nil {
					t.Errorf("webhook finding %v: app_title %v, want %q beside the existing fields", f["key"], f["app_title"], tt.titles[app])
				}
			}
			if len(wire.Roles) != 1 || wire.Roles[0]["to"] != "Workspace Owner" {
				t.Errorf("role_changes %v, want the raise only", wire.Roles)
			}
			msg, _ := json.Marshal(alert.Message(a))
			text := strings.ReplaceAll(string(msg), `\u003e`, ">")
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("the message should contain %q:\n%s", w, text)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(text, n) {
					t.Errorf("the message should not contain %q", n)
				}
			}
		})
	}
}
