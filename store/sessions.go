package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrNoSession is returned for a session that does not exist (never
// created, signed out) or has expired.
var ErrNoSession = errors.New("no such session")

// Session is a sign-in session of the web UI. ID is what the service
// derives from the cookie (a keyed hash), never the cookie itself.
type Session struct {
	ID         string
	Reviewer   string
	Credential string // what the service derives from the reviewer's password, to end the session when it changes
	Address    string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// sessionTime is fixed-width, so that the text of two times orders as
// the times do (the expiry query compares text).
const sessionTime = "2006-01-02T15:04:05.000000000Z07:00"

func sts(t time.Time) string { return t.UTC().Format(sessionTime) }

// CreateSession records a session, and forgets the sessions that have
// expired by its creation time, so that the table does not grow.
func (s *Store) CreateSession(ctx context.Context, se *Session) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: beginning the session: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, sts(se.CreatedAt)); err != nil {
		return fmt.Errorf("store: removing expired sessions: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, reviewer, credential, address, created_at, expires_at) VALUES (?,?,?,?,?,?)`,
		se.ID, se.Reviewer, se.Credential, se.Address, sts(se.CreatedAt), sts(se.ExpiresAt)); err != nil {
		return fmt.Errorf("store: recording the session: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: recording the session: %w", err)
	}
	return nil
}

// Session returns the session id unless it is unknown or expired at now
// (ErrNoSession).
func (s *Store) Session(ctx context.Context, id string, now time.Time) (*Session, error) {
	var se Session
	var created, expires string
	err := s.db.QueryRowContext(ctx, `SELECT id, reviewer, credential, address, created_at, expires_at FROM sessions WHERE id = ?`, id).
		Scan(&se.ID, &se.Reviewer, &se.Credential, &se.Address, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("store: reading the session: %w", err)
	}
	se.CreatedAt, se.ExpiresAt = parseTS(created), parseTS(expires)
	if !now.Before(se.ExpiresAt) {
		return nil, ErrNoSession
	}
	return &se, nil
}

// EndSession removes a session (sign-out); ending an unknown session is
// not an error.
func (s *Store) EndSession(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("store: ending the session: %w", err)
	}
	return nil
}
