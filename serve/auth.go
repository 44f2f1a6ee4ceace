package serve

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/idgraph/idgraph/store"
)

// How a request proved who it acts for.
const (
	viaBearer  = "bearer"
	viaBasic   = "basic"
	viaSession = "session"
)

// caller is who a request acts for, and how it proved it.
type caller struct {
	who     string // a reviewer, or "token" for the bearer token
	via     string // viaBearer, viaBasic or viaSession
	session string // the session cookie's token, with viaSession
}

type ctxKey struct{}

func callerOf(r *http.Request) caller {
	c, _ := r.Context().Value(ctxKey{}).(caller)
	return c
}

// reviewer returns who the request acts for.
func reviewer(r *http.Request) string { return callerOf(r).who }

const (
	sessionCookie = "idgraph_session"
	sessionTTL    = 12 * time.Hour
)

// authenticate accepts a bearer token, basic-auth credentials, or the
// session cookie of the sign-in form. Wrong passwords count against the
// account and the client address (see throttle); while either is locked
// out, passwords are not even compared.
func (s *Server) authenticate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api := strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/metrics"
		var c caller
		var wait time.Duration
		if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
			c = s.bearer(r, strings.TrimPrefix(a, "Bearer "))
		} else if u, p, ok := r.BasicAuth(); ok {
			var signed bool
			if signed, wait = s.signIn(r, u, p, viaBasic); signed {
				c = caller{who: u, via: viaBasic}
			}
		} else if ck, err := r.Cookie(sessionCookie); err == nil {
			c = s.session(r.Context(), ck.Value)
		}
		switch {
		case wait > 0:
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second).Seconds())))
			msg := lockedMessage(wait)
			if api {
				writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": msg})
			} else {
				http.Error(w, msg, http.StatusTooManyRequests)
			}
			return
		case c.who == "" && api:
			w.Header().Set("WWW-Authenticate", `Bearer realm="idgraph", Basic realm="idgraph"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "authentication required: a bearer token or basic-auth credentials"})
			return
		case c.who == "":
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, c)))
	})
}

func lockedMessage(wait time.Duration) string {
	return "too many failed sign-ins for this account or from this address: try again in " + wait.Round(time.Second).String() +
		", or ask the operator to lift the lockout (DELETE /api/v1/lockouts)"
}

// bearer checks a bearer token. A wrong one is logged but not throttled:
// the token is a machine secret of at least 16 characters, too long to
// guess, and locking an address out would lock the operator out of
// lifting lockouts from it.
func (s *Server) bearer(r *http.Request, tok string) caller {
	if s.o.Token != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.o.Token)) == 1 {
		return caller{who: "token", via: viaBearer}
	}
	s.log.Warn("failed sign-in", "method", viaBearer, "address", s.clientAddr(r))
	return caller{}
}

// signIn checks, throttles and logs a password sign-in (form or basic
// auth). While the account or the address is locked out it returns how
// long to wait, without comparing the password. The password is never
// logged.
func (s *Server) signIn(r *http.Request, user, password, method string) (ok bool, wait time.Duration) {
	addr := s.clientAddr(r)
	account := accountKey(user)
	if wait := s.throttle.locked(account, addr); wait > 0 {
		s.log.Warn("sign-in refused: locked out", "method", method, "account", logValue(user), "address", addr, "retry_after", wait.Round(time.Second))
		return false, wait
	}
	if s.checkUser(user, password) {
		s.throttle.succeeded(account)
		return true, 0
	}
	var accN int
	var accLock time.Duration
	if account != "" {
		accN, accLock = s.throttle.fail(account, "")
	}
	addrN, addrLock := s.throttle.fail("", addr)
	s.log.Warn("failed sign-in", "method", method, "account", logValue(user), "address", addr, "account_failures", accN, "address_failures", addrN)
	if accLock > 0 {
		s.log.Warn("sign-in locked out", "account", logValue(user), "for", accLock)
	}
	if addrLock > 0 {
		s.log.Warn("sign-in locked out", "address", addr, "for", addrLock)
	}
	return false, 0
}

// accountKey folds the spellings of one account name together, so that
// "Alice@acme.com" and "alice@acme.com " share a failure count.
func accountKey(user string) string { return strings.ToLower(strings.TrimSpace(user)) }

// logValue bounds what a client typed before it reaches a log line.
func logValue(v string) string {
	if len(v) > 120 {
		return v[:120] + "…"
	}
	return v
}

func (s *Server) checkUser(u, p string) bool {
	want, ok := s.o.Users[u]
	// Compare anyway, so that timing does not tell which users exist.
	eq := subtle.ConstantTimeCompare([]byte(p), []byte(want)) == 1
	return ok && eq && want != ""
}

func (s *Server) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, s.o.SessionSecret)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// sessionID is what the store keeps for a cookie's token: a keyed hash, so
// that a copy of the store (or its backup) holds no usable session.
func (s *Server) sessionID(token string) string { return hex.EncodeToString(s.mac("session", token)) }

// credential binds a session to the reviewer's password at sign-in: when
// the operator changes the password in serve.users_env, the reviewer's
// sessions end with it.
func (s *Server) credential(user string) string {
	return hex.EncodeToString(s.mac("credential", user, s.o.Users[user]))
}

// startSession records a new session for user and returns the cookie's
// token: 32 random bytes.
func (s *Server) startSession(ctx context.Context, r *http.Request, user string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	now := s.o.Now()
	err := s.o.Store.CreateSession(ctx, &store.Session{ID: s.sessionID(token), Reviewer: user, Credential: s.credential(user), Address: s.clientAddr(r),
		CreatedAt: now, ExpiresAt: now.Add(sessionTTL)})
	return token, err
}

// session returns the caller of a session cookie that the store knows and
// that has not expired, for a reviewer who is still configured with the
// same password.
func (s *Server) session(ctx context.Context, token string) caller {
	if token == "" || len(s.o.SessionSecret) == 0 {
		return caller{}
	}
	se, err := s.o.Store.Session(ctx, s.sessionID(token), s.o.Now())
	if err != nil {
		if !errors.Is(err, store.ErrNoSession) {
			s.log.Error("reading a session", "error", err)
		}
		return caller{}
	}
	if _, ok := s.o.Users[se.Reviewer]; !ok || !hmac.Equal([]byte(se.Credential), []byte(s.credential(se.Reviewer))) {
		return caller{}
	}
	return caller{who: se.Reviewer, via: viaSession, session: token}
}

// csrf is the token every form carries: bound to the session, or to the
// reviewer for basic auth, which a browser also sends on its own.
func (s *Server) csrf(r *http.Request) string {
	c := callerOf(r)
	switch c.via {
	case viaSession:
		return base64.RawURLEncoding.EncodeToString(s.mac("csrf", viaSession, c.session))
	case viaBasic:
		return base64.RawURLEncoding.EncodeToString(s.mac("csrf", viaBasic, c.who))
	}
	return ""
}

// checkForm accepts a form post that carries the caller's CSRF token. A
// bearer token is never sent by a browser on its own, so it needs none.
func (s *Server) checkForm(r *http.Request) bool {
	if callerOf(r).via == viaBearer {
		return true
	}
	want := s.csrf(r)
	return want != "" && hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(want))
}

// sameOrigin refuses every state-changing request that a browser sent
// from another origin (Sec-Fetch-Site, else Origin against the host),
// whatever authenticates it: a browser sends basic-auth credentials and
// cookies on its own. Scripts send neither header and pass.
func (s *Server) sameOrigin(h http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		check := r
		if fh := forwarded(r, "X-Forwarded-Host"); s.o.TrustProxy && fh != "" {
			check = r.Clone(r.Context())
			check.Host = fh
		}
		if err := cop.Check(check); err != nil {
			s.log.Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path, "origin", logValue(r.Header.Get("Origin")),
				"sec_fetch_site", logValue(r.Header.Get("Sec-Fetch-Site")), "address", s.clientAddr(r))
			msg := "cross-origin request refused: state-changing requests must come from this service's own pages"
			if strings.HasPrefix(r.URL.Path, "/api/") {
				writeJSON(w, http.StatusForbidden, map[string]string{"error": msg})
			} else {
				http.Error(w, msg, http.StatusForbidden)
			}
			return
		}
		h.ServeHTTP(w, r)
	})
}

// forwarded returns the first value of a proxy header.
func forwarded(r *http.Request, name string) string {
	v, _, _ := strings.Cut(r.Header.Get(name), ",")
	return strings.TrimSpace(v)
}

// isHTTPS reports whether the client reached the service over HTTPS: this
// server's TLS, or a trusted proxy that says so.
func (s *Server) isHTTPS(r *http.Request) bool {
	return r.TLS != nil || (s.o.TrustProxy && strings.EqualFold(forwarded(r, "X-Forwarded-Proto"), "https"))
}

// clientAddr is the address failures count against: the peer, or with a
// trusted proxy the address that proxy appended to X-Forwarded-For (the
// entries before it are the client's own word).
func (s *Server) clientAddr(r *http.Request) string {
	if s.o.TrustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if ip := net.ParseIP(strings.TrimSpace(last)); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// localPath reports whether v is a path on this service that is safe to
// redirect a browser to. Browsers read "/\host", "/<TAB>/host" and "//host"
// as another host, so the raw text must be one plain absolute path: no
// backslash, no control character, no scheme or host after parsing, and a
// path that starts with exactly one slash, also once decoded (%2F).
func localPath(v string) bool {
	if !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") {
		return false
	}
	for _, c := range v {
		if c == '\\' || unicode.IsControl(c) || unicode.IsSpace(c) {
			return false
		}
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	if !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return false
	}
	for _, c := range u.Path {
		if c == '\\' || unicode.IsControl(c) {
			return false
		}
	}
	return true
}
