package serve

import (
	"context"
	"errors"
	"time"

	"github.com/idgraph/idgraph/report/alert"
	"github.com/idgraph/idgraph/store"
)

// RunResult is what one scheduled or manual run produced.
type RunResult struct {
	Snapshot   *store.Snapshot // the snapshot stored
	Incomplete []string        // sources that were incomplete, with why
	Alerts     alert.Result
}

// ErrBusy is returned when a run is already under way.
var ErrBusy = errors.New("a run is already under way")

// ErrStopping is returned for a run asked for while the service stops.
var ErrStopping = errors.New("the service is stopping")

// Running reports whether a run is under way.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// RunNow performs a run unless one is under way or the service stops.
func (s *Server) RunNow(ctx context.Context, why string) error {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return ErrStopping
	}
	if s.running {
		s.mu.Unlock()
		return ErrBusy
	}
	s.running = true
	s.runs.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
		s.runs.Done()
	}()
	start := time.Now()
	s.log.Info("run started", "trigger", why)
	res, err := s.o.Run(ctx)
	s.m.observe(res, err, time.Since(start))
	s.mu.Lock()
	s.lastErr = ""
	if err != nil {
		s.lastErr = err.Error()
	}
	s.mu.Unlock()
	return err
}
