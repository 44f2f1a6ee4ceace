package okta

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"
)

// Class says what kind of failure an error is, because each has its own
// fix: a refused connection is never a wrong token.
type Class string

const (
	ClassNetwork    Class = "network"    // DNS, refused, reset, TLS, timeout: the path to Okta
	ClassAuth       Class = "auth"       // the credential itself was refused
	ClassPermission Class = "permission" // authenticated, but not allowed (role or scope)
	ClassRateLimit  Class = "rate_limit" // 429s outlasted the retries
	ClassStopped    Class = "stopped"    // the run's context ended the read
	ClassData       Class = "data"       // Okta's answer was unusable (bad JSON, a looping cursor)
	ClassOther      Class = "other"
)

// Error is a failed Okta call explained: what failed, what kind of
// failure, and what to do.
type Error struct {
	Class Class
	What  string // e.g. "reading users, page 3"
	Msg   string // what happened, secrets removed
	Fix   string // what the operator does about it
	Err   error  // the SDK's error
	// Source names the org when okta lists several (e.g.
	// "okta-acquisicorp"); "" for the one named okta.
	Source string
}

func (e *Error) Error() string {
	s := "okta: "
	if e.Source != "" {
		s = "okta (" + e.Source + "): "
	}
	s += e.What + ": " + e.Msg
	if e.Fix != "" {
		s += "; " + e.Fix
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// explain turns an SDK error into one that says what kind of failure it
// is and what to do, without the secret. tr (optional) holds what the SDK
// does not keep: the WWW-Authenticate challenge of a refused token.
func (c *Collector) explain(tr *transport, err error, path, what string) error {
	e := &Error{What: what, Err: err, Class: ClassOther, Msg: err.Error()}
	var oe *sdk.Error
	host := c.host()
	switch {
	case errors.Is(err, context.Canceled):
		e.Class, e.Msg = ClassStopped, "the run was cancelled"
	case errors.As(err, &oe):
		c.explainOkta(tr, oe, path, e)
	case err.Error() == "too many requests":
		// What okta-sdk-golang v2 returns once its 429 retries are spent.
		e.Class = ClassRateLimit
		e.Msg = fmt.Sprintf("Okta still answered 429 after %d retries", c.maxRetries())
		e.Fix = "Okta's per-minute limit or its limit on concurrent requests (shared by every integration of the org) was exceeded; " +
			"lower okta.max_concurrency, raise okta.max_retries, or run when the org is quieter"
	default:
		if msg, fix, ok := network(err, host); ok {
			e.Class, e.Msg, e.Fix = ClassNetwork, msg, fix
		}
	}
	e.Msg, e.Fix = c.redact(e.Msg), c.redact(e.Fix)
	return e
}

// explainList explains the failure of a list read; an app that Okta does
// not know (404 E0000007) is named with its configuration key.
func (c *Collector) explainList(tr *transport, err error, l listing, what string) error {
	e := c.explain(tr, err, l.endpoint, what)
	var ee *Error
	if l.app != nil && errors.As(e, &ee) && ee.Class == ClassPermission && strings.HasPrefix(ee.Msg, "Okta has no such application") {
		ee.Msg = fmt.Sprintf("Okta has no application %s (%s; E0000007 Not found)", l.app.id, l.app.key())
		ee.Fix = fmt.Sprintf("check %s: it must be the id in the app's admin URL (0oa...) of an app in %s", l.app.key(), c.cfg.OrgURL)
	}
	return e
}

func (c *Collector) host() string {
	if u, err := url.Parse(c.cfg.OrgURL); err == nil {
		return u.Host
	}
	return c.cfg.OrgURL
}

// explainOkta explains an error answer of Okta's (an Okta error body, an
// OAuth error of the token endpoint, or a WWW-Authenticate challenge).
func (c *Collector) explainOkta(tr *transport, oe *sdk.Error, path string, e *Error) {
	var ch *challenge
	if tr != nil {
		ch = tr.challenge.Load()
	}
	scope := requiredScope(path)
	switch {
	case oe.ErrorMessage == "invalid_dpop_proof" || oe.ErrorMessage == "use_dpop_nonce":
		// idgraph refuses DPoP rather than implementing it under the SDK's
		// back: okta-sdk-golang v2 makes the token request itself and always
		// sends "Authorization: Bearer", so DPoP would mean re-signing every
		// token request and API call in the transport (a proof with htm, htu,
		// ath and the nonce dance of RFC 9449, and a second key to keep) —
		// security-sensitive code that no Okta library of ours tests. An API
		// token, or a service app with DPoP off, reads the same data.
		e.Class = ClassAuth
		e.Msg = fmt.Sprintf("Okta's token endpoint requires DPoP for the service app %s (%s: %s), which idgraph does not support",
			c.cfg.ClientID, oe.ErrorMessage, oe.ErrorDescription)
		e.Fix = "this application requires DPoP; turn it off for the idgraph service app (Applications > the app > General > " +
			"clear \"Require Demonstrating Proof of Possession (DPoP) header in token requests\") or use an API token (okta.token_env)"
	case oe.ErrorMessage == "invalid_scope":
		e.Class = ClassPermission
		e.Msg = fmt.Sprintf("Okta's token endpoint refused the scopes requested for the service app %s (%s: %s)", c.cfg.ClientID, oe.ErrorMessage, oe.ErrorDescription)
		e.Fix = fmt.Sprintf("grant the scopes %s to the app (Okta API Scopes tab), or list in okta.scopes only those granted", strings.Join(c.cfg.Scopes, " "))
	case oe.ErrorMessage != "":
		e.Class = ClassAuth
		e.Msg = fmt.Sprintf("Okta's token endpoint refused the service app %s (%s: %s)", c.cfg.ClientID, oe.ErrorMessage, oe.ErrorDescription)
		e.Fix = "check okta.client_id, the private key in " + c.cfg.PrivateKeyEnv + " and the public key registered for the app (and okta.private_key_id)"
	case oe.ErrorCode == "E0000006" || strings.Contains(oe.ErrorSummary, "permission") || strings.Contains(oe.ErrorSummary, "scope"):
		e.Class = ClassPermission
		e.Msg = fmt.Sprintf("Okta refused %s (E0000006)", path)
		if c.token != "" {
			e.Fix = "the API token's user lacks an admin role that may read it; grant the Read-only Administrator role"
		} else {
			e.Fix = fmt.Sprintf("grant the scope %s to the service app %s, and request it in okta.scopes", scope, c.cfg.ClientID)
		}
	case oe.ErrorCode == "E0000011" || strings.Contains(oe.ErrorSummary, "Invalid token") || ch != nil && ch.Error == "invalid_token":
		e.Class = ClassAuth
		if c.token != "" {
			e.Msg = fmt.Sprintf("Okta rejected the API token in %s (E0000011 %s)", c.cfg.TokenEnv, oe.ErrorSummary)
			e.Fix = "it is wrong, revoked, or expired after 30 days unused: create a new token as the read-only admin and put it in " + c.cfg.TokenEnv
		} else {
			// Okta's resource server names the reason in its challenge
			// (WWW-Authenticate: Bearer ..., error="invalid_token",
			// error_description=...; RFC 6750 section 3.1).
			why := "E0000011 " + oe.ErrorSummary
			if ch != nil {
				why = ch.Error
				if ch.Description != "" {
					why += ": " + ch.Description
				}
			}
			e.Msg = fmt.Sprintf("Okta refused the service app's access token (%s)", why)
			e.Fix = "the token expired or was revoked, or the app's keys changed; check the app " + c.cfg.ClientID + " and its public key"
		}
	case oe.ErrorCode == "E0000007" && path == "/api/v1/apps":
		// explainList names the app and its configuration key.
		e.Class = ClassPermission
		e.Msg = "Okta has no such application (E0000007)"
		e.Fix = "check the app id (the id in the app's admin URL, 0oa...)"
	case oe.ErrorCode == "E0000047":
		e.Class = ClassRateLimit
		e.Msg = "Okta's rate limit was still exceeded after the retries (E0000047)"
		e.Fix = "lower okta.max_concurrency or raise okta.max_retries"
	default:
		e.Msg = fmt.Sprintf("Okta answered %s: %s", oe.ErrorCode, oe.ErrorSummary)
	}
}

// requiredScope is the OAuth scope a path of Okta's management API needs.
func requiredScope(path string) string {
	switch {
	case strings.Contains(path, "/roles"):
		return "okta.roles.read"
	case strings.HasPrefix(path, "/api/v1/users"):
		return "okta.users.read"
	case strings.HasPrefix(path, "/api/v1/groups"):
		return "okta.groups.read"
	case strings.HasPrefix(path, "/api/v1/apps"):
		return "okta.apps.read"
	}
	return ""
}

// network explains a failure on the way to Okta, or reports that err is
// none.
func network(err error, host string) (msg, fix string, ok bool) {
	var dns *net.DNSError
	var unknown x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var record tls.RecordHeaderError
	var op *net.OpError
	switch {
	case errors.As(err, &dns):
		return fmt.Sprintf("the name %s does not resolve (DNS: %s)", dns.Name, dns.Err),
			"check okta.org_url (https://<org>.okta.com) and this machine's DNS", true
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("nothing accepts connections at %s (connection refused)", host),
			"check okta.org_url and that a firewall or proxy lets this machine reach it; the credentials were not tried", true
	case errors.As(err, &unknown), errors.As(err, &hostErr), errors.As(err, &invalid), errors.As(err, &verify):
		return fmt.Sprintf("the TLS certificate of %s is not trusted (%v)", host, err),
			"if a TLS-inspecting proxy sits between idgraph and Okta, add its CA to the system's trust store; otherwise check okta.org_url", true
	case errors.As(err, &record):
		return fmt.Sprintf("%s did not answer with TLS", host), "check okta.org_url: Okta is reached over https", true
	case timeout(err):
		return fmt.Sprintf("%s did not answer in time", host),
			"check the network path to Okta (proxy, firewall); raise okta.request_timeout if Okta is slow; the credentials were not judged", true
	case errors.Is(err, syscall.ECONNRESET), errors.As(err, &op):
		return fmt.Sprintf("the connection to %s failed (%v)", host, err), "check the network path to Okta (proxy, firewall)", true
	}
	return "", "", false
}

// detailOf is what an explained error says happened, without its fix
// (doctor shows the fix on a line of its own).
func detailOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return "okta: " + e.What + ": " + e.Msg
	}
	return err.Error()
}

// fixOf is the fix an explained error carries, or def.
func fixOf(err error, def string) string {
	var e *Error
	if errors.As(err, &e) && e.Fix != "" {
		return e.Fix
	}
	return def
}

// tagSource names the org in every *Error that err holds, when the
// source is not the one named okta.
func tagSource(err error, name string) {
	if name == "okta" {
		return
	}
	switch e := err.(type) {
	case *Error:
		e.Source = name
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			tagSource(x, name)
		}
	}
}
