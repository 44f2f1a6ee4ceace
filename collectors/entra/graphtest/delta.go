// delta.go holds users/delta(): rounds, delta tokens and deltaLinks.

package graphtest

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// delta implements users/delta(): without a token it pages through every
// user and ends with a deltaLink; with $deltatoken it returns the users
// changed or removed since the token was issued; $deltatoken=latest
// returns no users and a deltaLink for the current state. Page size
// follows Prefer: odata.maxpagesize (default 100, at most 999).
func (s *Server) delta(w http.ResponseWriter, r *http.Request, ep string, sel []string, f Faults) {
	q := r.URL.Query()
	size := 100
	if p := r.Header.Get("Prefer"); strings.Contains(p, "odata.maxpagesize=") {
		n, _ := strconv.Atoi(strings.SplitN(strings.SplitN(p, "odata.maxpagesize=", 2)[1], ",", 2)[0])
		if n > 0 {
			size = min(n, 999)
		}
	}
	// State of this round: the sequence it started from (since), the
	// sequence it will end at (upto), and the offset. All live in the
	// opaque tokens, as Graph's do.
	since, upto, off := int64(-1), int64(0), 0
	s.mu.Lock()
	upto = s.seq
	s.mu.Unlock()
	if t := q.Get("$deltatoken"); t != "" {
		if t == "latest" {
			s.writeDelta(w, r, ep, nil, "", s.deltaLink(r, upto), 1, f)
			return
		}
		if f.DeltaGone {
			// "410 (gone) and a Location header containing a request URL
			// with an empty $deltaToken (same as the initial query)": no
			// body, so no ODataError for the client to parse.
			w.Header().Set("Location", url(r, map[string]string{"$deltatoken": ""}))
			w.WriteHeader(http.StatusGone)
			return
		}
		if f.DeltaErrorCode != "" {
			graphErr(w, http.StatusBadRequest, f.DeltaErrorCode, "The delta token is no longer valid, and the app must reset the sync state.")
			return
		}
		n, err := strconv.ParseInt(strings.TrimPrefix(t, "d"), 10, 64)
		s.mu.Lock()
		expired := err != nil || n < s.minSeq || f.ExpireDelta
		s.mu.Unlock()
		if expired {
			graphErr(w, http.StatusBadRequest, "syncStateNotFound", "The sync state generation is not found. The delta token is expired and data must be synchronized again.")
			return
		}
		since = n
	}
	if t := q.Get("$skiptoken"); t != "" {
		var a, b int64
		var o int
		if _, err := fmt.Sscanf(decodeOr(t), "%d:%d:%d", &a, &b, &o); err != nil {
			graphErr(w, http.StatusBadRequest, "Request_BadRequest", "The specified page token value has expired and can no longer be included in your request.")
			return
		}
		since, upto, off = a, b, o
	}
	page := off/size + 1
	if s.fail(w, r, ep, page, f) {
		return
	}
	s.mu.Lock()
	var items []func() map[string]any
	users := s.sc.Users
	minimal := s.variant.PartialDeltaItems || strings.Contains(strings.Join(r.Header.Values("Prefer"), ","), "return=minimal")
	// manager in $select tracks the manager relationship (the delta query
	// overview: "$select also supports manager and members navigation
	// properties for users and groups respectively. Selecting those
	// properties allows tracking of changes to user's manager"), written as
	// the annotation manager@delta ("Relationships on users and groups are
	// represented as annotations ... propertyName@delta"), a list of
	// {"@odata.type", "id"}; a manager taken away comes as such an entry
	// with "@removed", as a member taken out of a group does in
	// members@delta ("group: delta"). The initial round carries it for
	// every user that has a manager; a tracked round when it changed.
	tracksManager := slices.Contains(sel, "manager")
	managerDelta := func(m map[string]any, u *User, was string) {
		switch {
		case u.Manager != "":
			m["manager@delta"] = []map[string]any{{"@odata.type": "#microsoft.graph.user", "id": u.Manager}}
		case was != "":
			m["manager@delta"] = []map[string]any{{"@odata.type": "#microsoft.graph.user", "id": was, "@removed": map[string]any{"reason": "deleted"}}}
		}
	}
	if since < 0 {
		for i := range users {
			items = append(items, func() map[string]any {
				m := project(userMap(&users[i]), sel, defaultUserProps)
				if tracksManager {
					managerDelta(m, &users[i], "")
				}
				return m
			})
		}
	} else {
		tracked := sel
		if len(tracked) == 0 {
			tracked = defaultUserProps
		}
		in := func(v int64) bool { return v > since && v <= upto }
		for i := range users {
			u := &users[i]
			if c, ok := s.created[u.ID]; ok && in(c) {
				// "Newly created instances ... using their standard
				// representation."
				items = append(items, func() map[string]any {
					m := project(userMap(u), sel, defaultUserProps)
					if tracksManager {
						managerDelta(m, u, "")
					}
					return m
				})
				continue
			}
			// A change to a property that is not selected does not list
			// the user ("user: delta", $select).
			changed := map[string]bool{}
			for _, k := range tracked {
				if v, ok := s.propVer[u.ID][k]; ok && in(v) {
					changed[k] = true
				}
			}
			if len(changed) == 0 {
				continue
			}
			everSet := maps.Clone(s.propVer[u.ID])
			was := s.formerManager[u.ID]
			items = append(items, func() map[string]any {
				m := project(userMap(u), sel, defaultUserProps)
				if changed["manager"] {
					managerDelta(m, u, was)
				}
				for k, v := range m {
					switch {
					case k == "id" || strings.HasSuffix(k, "@delta"):
					case minimal && !changed[k]:
						delete(m, k) // Prefer: return=minimal: only what changed
					case !minimal && v == nil && !changed[k] && everSet[k] == 0:
						delete(m, k) // default: "never been set ... not included at all"
					}
				}
				return m
			})
		}
		ids := make([]string, 0)
		for id, g := range s.gone {
			if in(g.seq) {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		for _, id := range ids {
			reason := s.gone[id].reason
			items = append(items, func() map[string]any {
				return map[string]any{"@odata.type": "#microsoft.graph.user", "id": id, "@removed": map[string]any{"reason": reason}}
			})
		}
	}
	s.mu.Unlock()
	end := min(off+size, len(items))
	next, dl := "", ""
	if end < len(items) {
		nq := url(r, map[string]string{"$skiptoken": base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d:%d:%d", since, upto, end)))})
		next = nq
	} else {
		dl = s.deltaLink(r, upto)
	}
	if link, ok := s.repeat(r, page, f, func(nonce string) string {
		return url(r, map[string]string{"$skiptoken": base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d:%d:%d", since, upto, off))) + nonce})
	}); ok {
		next, dl = link, ""
	}
	var out []map[string]any
	for _, it := range items[min(off, len(items)):end] {
		out = append(out, it())
	}
	s.writeDelta(w, r, ep, out, next, dl, page, f)
}

func decodeOr(t string) string {
	t, _, _ = strings.Cut(t, ".")
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil {
		return ""
	}
	return string(b)
}

func (s *Server) deltaLink(r *http.Request, upto int64) string {
	return url(r, map[string]string{"$deltatoken": "d" + strconv.FormatInt(upto, 10)})
}

func (s *Server) writeDelta(w http.ResponseWriter, r *http.Request, ep string, items []map[string]any, next, dl string, page int, f Faults) {
	body := map[string]any{"@odata.context": s.base(r) + "/v1.0/$metadata#users", "value": nonNil(items)}
	if next != "" {
		body["@odata.nextLink"] = next
	}
	if dl != "" {
		body["@odata.deltaLink"] = dl
	}
	s.writePage(w, r, ep, body, page, f)
}
