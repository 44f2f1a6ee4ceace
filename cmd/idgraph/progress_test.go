package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestProgressOnlyOnATerminal runs the CLI with standard error on a real
// pseudo-terminal, then on a pipe-like buffer.
func TestProgressOnlyOnATerminal(t *testing.T) {
	cfg := quickstart(t)
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer ptmx.Close()
	pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 160}) // a new pty has no size, and nothing fits in 0 columns
	var screen bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&screen, ptmx); close(done) }()
	var out bytes.Buffer
	code := Main(context.Background(), []string{"run", "-c", cfg}, strings.NewReader(""), &out, tty, func(string) string { return "" })
	tty.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	if code != 0 {
		t.Fatalf("exit %d: %s", code, screen.String())
	}
	s := screen.String()
	if !strings.Contains(s, "okta-export") || !strings.Contains(s, "records") {
		t.Errorf("no progress on the terminal:\n%q", s)
	}
	if strings.Contains(s, "level=INFO") {
		t.Errorf("info log lines garble the bars on a terminal:\n%q", s)
	}

	// Not a terminal: structured log lines, no progress drawing.
	var errb bytes.Buffer
	out.Reset()
	if code := Main(context.Background(), []string{"run", "-c", cfg, "--log-format", "json"}, strings.NewReader(""), &out, &errb, func(string) string { return "" }); code != 0 {
		t.Fatalf("exit %d", code)
	}
	e := errb.String()
	if strings.Contains(e, "\r") || strings.Contains(e, "\x1b[") || !strings.Contains(e, `"msg":"collected"`) {
		t.Errorf("off a terminal want JSON log lines only:\n%q", e)
	}
}
