// This file holds the replica's admin API, behind the Team Management
// page's controls: removing a member, changing a role, revoking an
// invitation. The state it changes is the scenario itself, so the next
// read of the page shows the change.
//
// Stonly's rules ("Team permissions in Stonly",
// stonly.com/kb/guide/en/team-permissions-in-stonly-cgrH5mLGgI): a team has
// exactly one Owner, ownership is transferred rather than assigned, and
// only the Owner and Admins have Team management. So the server refuses
// to remove or demote the Owner and to make anyone Owner, whatever the
// page offered; a request without the session's CSRF token is refused, as
// single-page apps' APIs do.

package stonlytest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Members returns a copy of team's members as the replica holds them now.
func (s *Server) Members(team string) []Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.sc.Teams {
		if t.ID == team {
			return append([]Member(nil), t.Members...)
		}
	}
	return nil
}

// Invitations returns a copy of team's pending invitations.
func (s *Server) Invitations(team string) []Invitation {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.sc.Teams {
		if t.ID == team {
			return append([]Invitation(nil), t.Invitations...)
		}
	}
	return nil
}

// Member returns the member of team at email (case-insensitive).
func (s *Server) Member(team, email string) (Member, bool) {
	for _, m := range s.Members(team) {
		if strings.EqualFold(m.Email, email) {
			return m, true
		}
	}
	return Member{}, false
}

// Changes returns every change the admin API was asked for, in order,
// with the status it answered (refusals included).
func (s *Server) Changes() []Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Change(nil), s.changes...)
}

// change checks a change request (session, CSRF token, team access, the
// session-expiry switch) and records it; s.mu is held. It returns the team,
// or nil once it has answered the refusal.
func (s *Server) change(w http.ResponseWriter, r *http.Request, op, role string) *Team {
	s.changes = append(s.changes, Change{Team: r.PathValue("team"), Op: op, Email: r.PathValue("email"), Role: role, Status: http.StatusOK})
	var se *session
	if c, err := r.Cookie(CookieName); err == nil {
		se = s.sessions[c.Value]
	}
	if se == nil || se.expired {
		s.answer(w, http.StatusUnauthorized, "Your session has expired.")
		return nil
	}
	if r.Header.Get("X-CSRF-Token") != se.csrf {
		s.answer(w, http.StatusForbidden, "Invalid CSRF token.")
		return nil
	}
	if s.v.ExpireAtChange > 0 && len(s.changes) == s.v.ExpireAtChange {
		se.expired = true
		s.answer(w, http.StatusUnauthorized, "Your session has expired.")
		return nil
	}
	for i := range s.sc.Teams {
		if t := &s.sc.Teams[i]; t.ID == r.PathValue("team") {
			if t.Access != "" {
				s.answer(w, http.StatusForbidden, "Only the Owner and Admins of this team can manage its members.")
				return nil
			}
			return t
		}
	}
	s.answer(w, http.StatusNotFound, "This team does not exist.")
	return nil
}

// answer records status as the answer to the change just asked for and
// writes it, with msg for the page's toast.
func (s *Server) answer(w http.ResponseWriter, status int, msg string) {
	s.changes[len(s.changes)-1].Status = status
	body := map[string]string{"message": msg}
	if status != http.StatusOK {
		body["error"] = http.StatusText(status)
	}
	writeJSON(w, status, body)
}

func memberIndex(t *Team, email string) int {
	for i, m := range t.Members {
		if strings.EqualFold(m.Email, email) {
			return i
		}
	}
	return -1
}

func (s *Server) apiRemove(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.change(w, r, "remove", "")
	if t == nil {
		return
	}
	email := r.PathValue("email")
	i := memberIndex(t, email)
	switch {
	case i < 0:
		s.answer(w, http.StatusNotFound, "This person is not a member of the team.")
	case t.Members[i].Role == "Owner":
		s.answer(w, http.StatusForbidden, "The team Owner cannot be removed. Transfer ownership first.")
	case s.v.RefuseRemove != "" && strings.EqualFold(s.v.RefuseRemove, email):
		s.answer(w, http.StatusInternalServerError, "")
	default:
		t.Members = append(t.Members[:i:i], t.Members[i+1:]...)
		s.answer(w, http.StatusOK, "Member removed")
	}
}

func (s *Server) apiSetRole(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Role string `json:"role"`
	}
	json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&body)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.change(w, r, "set_role", body.Role)
	if t == nil {
		return
	}
	i := memberIndex(t, r.PathValue("email"))
	switch {
	case i < 0:
		s.answer(w, http.StatusNotFound, "This person is not a member of the team.")
	case t.Members[i].Role == "Owner":
		s.answer(w, http.StatusForbidden, "The Owner's role cannot be changed. Transfer ownership first.")
	case body.Role == "Owner":
		s.answer(w, http.StatusBadRequest, "Ownership is transferred, not assigned.")
	case body.Role != "Admin" && body.Role != "Member":
		s.answer(w, http.StatusBadRequest, "Unknown role.")
	default:
		t.Members[i].Role = body.Role
		s.answer(w, http.StatusOK, "Role updated")
	}
}

func (s *Server) apiRevoke(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.change(w, r, "revoke_invitation", "")
	if t == nil {
		return
	}
	email := r.PathValue("email")
	for i, iv := range t.Invitations {
		if strings.EqualFold(iv.Email, email) {
			t.Invitations = append(t.Invitations[:i:i], t.Invitations[i+1:]...)
			s.answer(w, http.StatusOK, "Invitation revoked")
			return
		}
	}
	s.answer(w, http.StatusNotFound, "There is no pending invitation for this address.")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
