package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestSessions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	a := &Session{ID: "a", Reviewer: "alice@acme.com", Credential: "c1", Address: "192.0.2.1", CreatedAt: now, ExpiresAt: now.Add(12 * time.Hour)}
	if err := s.CreateSession(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := s.Session(ctx, "a", now.Add(time.Hour))
	if err != nil || got.Reviewer != "alice@acme.com" || got.Credential != "c1" || got.Address != "192.0.2.1" || !got.ExpiresAt.Equal(a.ExpiresAt) {
		t.Fatalf("session a: %+v %v", got, err)
	}
	if _, err := s.Session(ctx, "a", a.ExpiresAt); !errors.Is(err, ErrNoSession) {
		t.Errorf("at its expiry: %v, want ErrNoSession", err)
	}
	if _, err := s.Session(ctx, "nope", now); !errors.Is(err, ErrNoSession) {
		t.Errorf("unknown: %v, want ErrNoSession", err)
	}

	// A session survives reopening the store (a restart of serve).
	s.Close()
	if s, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Session(ctx, "a", now.Add(time.Hour)); err != nil {
		t.Fatalf("after reopening: %v", err)
	}

	// Ending a session ends it; ending it twice is no error.
	if err := s.EndSession(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.EndSession(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, "a", now.Add(time.Hour)); !errors.Is(err, ErrNoSession) {
		t.Errorf("after sign-out: %v, want ErrNoSession", err)
	}

	// Creating a session forgets the expired ones, and only those.
	old := &Session{ID: "old", Reviewer: "bob@acme.com", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	live := &Session{ID: "live", Reviewer: "bob@acme.com", CreatedAt: now, ExpiresAt: now.Add(48 * time.Hour)}
	for _, se := range []*Session{old, live} {
		if err := s.CreateSession(ctx, se); err != nil {
			t.Fatal(err)
		}
	}
	later := now.Add(2 * time.Hour)
	if err := s.CreateSession(ctx, &Session{ID: "new", Reviewer: "carol@acme.com", CreatedAt: later, ExpiresAt: later.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM sessions ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) != 2 || ids[0] != "live" || ids[1] != "new" {
		t.Errorf("sessions after pruning: %v, want [live new]", ids)
	}
}
