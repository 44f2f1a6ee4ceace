package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/idgraph/idgraph/collectors"
)

// terminal reports whether w is an interactive terminal.
func terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// bars shows live progress per source on a terminal: stage, pages,
// records, retries and rate-limit waits.
type bars struct {
	p     *mpb.Progress
	mu    sync.Mutex
	state map[string]collectors.Progress
	bar   map[string]*mpb.Bar
}

// newBars returns nil when w is not a terminal or the user asked for quiet:
// cron, CI and the service get structured logs instead.
func (a *app) newBars() *bars {
	if a.quiet || !terminal(a.stderr) {
		return nil
	}
	return &bars{p: mpb.New(mpb.WithOutput(a.stderr), mpb.WithWidth(2), mpb.WithRefreshRate(150*time.Millisecond)),
		state: map[string]collectors.Progress{}, bar: map[string]*mpb.Bar{}}
}

// update is the collectors' progress callback.
func (b *bars) update(p collectors.Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.state[p.Source] = p
	if b.bar[p.Source] != nil {
		return
	}
	src := p.Source
	// Bars leave the screen when done: the run summary that follows
	// carries the final figures.
	b.bar[src] = b.p.New(0, mpb.SpinnerStyle(), mpb.BarRemoveOnComplete(),
		mpb.PrependDecorators(decor.Name(fmt.Sprintf("%-8s", src))),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			b.mu.Lock()
			s := b.state[src]
			b.mu.Unlock()
			line := fmt.Sprintf("%-24s pages %-5d records %-8d", s.Stage, s.Pages, s.Records)
			if s.Retries > 0 || s.Waited > 0 {
				line += fmt.Sprintf(" retries %d, waited %s", s.Retries, s.Waited.Round(time.Second))
			}
			return line
		})))
}

// done marks every bar finished and waits for the last frame.
func (b *bars) done() {
	if b == nil {
		return
	}
	b.mu.Lock()
	for src, bar := range b.bar {
		s := b.state[src]
		s.Stage = "done"
		b.state[src] = s
		bar.SetTotal(-1, true)
	}
	b.mu.Unlock()
	b.p.Wait()
}

func (b *bars) callback() func(collectors.Progress) {
	if b == nil {
		return nil
	}
	return b.update
}
