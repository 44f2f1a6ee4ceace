package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/idgraph/idgraph/diff"
	"github.com/idgraph/idgraph/review"
)

// ErrNoFinding: the latest snapshot has no finding by that key or id.
var ErrNoFinding = errors.New("no such finding")

// Reviewing is what every entry point (CLI, UI, API) needs to decide by
// the same rules: the policy and the evidence log file.
type Reviewing struct {
	Policy  review.Policy
	LogFile string // evidence log; "" for none
}

// finding returns the latest snapshot's finding with key or id.
func (s *Store) finding(ctx context.Context, key string) (*Summary, *diff.Finding, error) {
	sum, err := s.Get(ctx, 0)
	if err != nil {
		return nil, nil, err
	}
	fs, err := s.Findings(ctx, sum.ID)
	if err != nil {
		return nil, nil, err
	}
	key = strings.TrimSpace(key)
	for i := range fs {
		if fs[i].Key == key || fs[i].ID == key {
			return sum, &fs[i], nil
		}
	}
	return nil, nil, fmt.Errorf("%w: the latest snapshot (%d) has no finding %q", ErrNoFinding, sum.ID, key)
}

// Submit checks a decision about finding key (its key or ID) in the latest
// snapshot by the review rules and records it in the evidence chain. A
// refusal wraps review.ErrRefused.
func (s *Store) Submit(ctx context.Context, rv Reviewing, key string, req review.Request) (*Decision, *diff.Finding, error) {
	sum, f, err := s.finding(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	if err := s.CheckCampaignOpen(ctx, f.Key); err != nil {
		return nil, f, err
	}
	d, err := review.Check(rv.Policy, f, req)
	if err != nil {
		return nil, f, err
	}
	d.SnapshotID = sum.ID
	if err := s.Record(ctx, d, rv.LogFile); err != nil {
		return nil, f, err
	}
	return d, f, nil
}

// ConfirmFinding records reviewer as the second reviewer of the newest
// decision about finding key that waits for one.
func (s *Store) ConfirmFinding(ctx context.Context, rv Reviewing, key, reviewer string, now time.Time) (*Decision, *diff.Finding, error) {
	_, f, err := s.finding(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	if err := s.CheckCampaignOpen(ctx, f.Key); err != nil {
		return nil, f, err
	}
	h, err := s.History(ctx, f.Key)
	if err != nil {
		return nil, f, err
	}
	var pending *Decision
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Pending() {
			pending = &h[i]
			break
		}
	}
	who, err := review.CheckConfirm(f, pending, reviewer)
	if err != nil {
		return nil, f, err
	}
	if err := s.Confirm(ctx, pending.ID, who, now.UTC(), rv.LogFile); err != nil {
		return nil, f, err
	}
	pending.ConfirmedBy, pending.ConfirmedAt = who, now.UTC()
	return pending, f, nil
}
