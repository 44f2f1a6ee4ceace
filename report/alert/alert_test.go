package alert_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

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
