package entra

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// Class is what kind of failure an Error is, so that the message and the
// fix point at the right thing: a refused connection is not a bad secret.
type Class string

const (
	ClassNetwork    Class = "network"    // refused, reset, unreachable
	ClassDNS        Class = "dns"        // the host name does not resolve
	ClassTLS        Class = "tls"        // the certificate is not trusted
	ClassTimeout    Class = "timeout"    // no answer in time
	ClassCancelled  Class = "cancelled"  // the run was cancelled or its deadline passed
	ClassAuth       Class = "auth"       // Entra refused the credentials, or Graph the token
	ClassPermission Class = "permission" // the application lacks a Graph permission
	ClassConfig     Class = "config"     // an id in the configuration names nothing
	ClassThrottled  Class = "throttled"  // still throttled after the allowed waiting
	ClassService    Class = "service"    // Graph failed or answered something unusable
)

// Error is a failed read, explained: what failed, why, and what to do.
type Error struct {
	Class Class
	What  string // "reading users, page 1"
	Msg   string // what happened, in words an operator can act on
	Fix   string // what to do
	Err   error  // the SDK's error
}

func (e *Error) Error() string { return "entra: " + e.What + ": " + e.Msg }
func (e *Error) Unwrap() error { return e.Err }

var permissionOf = map[string]string{"/users": "User.Read.All", "/servicePrincipals": "Application.Read.All", "/groups": "GroupMember.Read.All"}

// explain turns an SDK error into one that says what to do. ctx is the
// read's context (once it is done, whatever failed failed because of
// that); cnt, when given, tells how much throttling the collection met.
func (c *Collector) explain(ctx context.Context, err error, path, what string, cnt *counter) error {
	var ee *Error
	if errors.As(err, &ee) {
		return err
	}
	stopped := ctx.Err() != nil
	if stopped && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	e := &Error{Class: ClassService, What: what, Msg: err.Error(), Err: err}
	var oe *odataerrors.ODataError
	var af *azidentity.AuthenticationFailedError
	var ae *abstractions.ApiError
	var ce *cycleError
	switch {
	case stopped:
		e.Class = ClassCancelled
		e.Msg = "stopped before the read finished: " + err.Error() + " (the run was cancelled or the source's deadline passed)"
		e.Fix = "nothing to fix in Entra; if the deadline is too short for this tenant, raise it"
	case errors.As(err, &ce):
		e.Msg = ce.Error()
		e.Fix = "run again later; if it persists, report the Graph request ids in the log to Microsoft"
	case errors.As(err, &af):
		if af.RawResponse == nil {
			// azidentity keeps only the text of a transport error (errors.go,
			// newAuthenticationFailedErrorFromMSAL): no answer came, so this is
			// the network, never the secret.
			c.network(e, af.Error(), c.authority, c.key("token_url"))
			break
		}
		e.Class = ClassAuth
		e.Msg, e.Fix = c.aadsts(firstLine(af.Error()))
	case errors.As(err, &oe) || errors.As(err, &ae):
		code, status := "", 0
		if oe != nil {
			code, status = odataCode(oe), oe.ResponseStatusCode
		} else {
			code, status = "no error body", ae.ResponseStatusCode
		}
		switch status {
		case http.StatusUnauthorized:
			e.Class = ClassAuth
			e.Msg = fmt.Sprintf("Graph rejected the access token (%s): the token was not issued for %s, or the app registration is disabled", code, c.graphURL.Host)
			e.Fix = "check that " + c.key("graph_url") + " and " + c.key("token_url") + " belong to the same cloud and that application " + c.cfg.ClientID + " is enabled"
		case http.StatusForbidden:
			e.Class = ClassPermission
			e.Msg = fmt.Sprintf("Graph refused %s (%s): grant the application permission %s to application %s and give admin consent", path, code, permissionOf[path], c.cfg.ClientID)
			e.Fix = "grant " + permissionOf[path] + " (application permission) with admin consent"
		case http.StatusNotFound:
			e.Msg = fmt.Sprintf("Graph answered 404 %s", code)
			if path == "/servicePrincipals" {
				e.Class = ClassConfig
				e.Msg = fmt.Sprintf("Graph has no service principal %s (%s): check %s (the enterprise application's object id, not its app id)", c.cfg.ServicePrincipalID, code, c.key("service_principal_id"))
				e.Fix = "set " + c.key("service_principal_id") + " to the object id shown under Enterprise applications"
			}
		case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			e.Class = ClassThrottled
			how := ""
			if cnt != nil {
				how = " " + cnt.throttling()
			}
			e.Msg = fmt.Sprintf("Graph is still throttling: it answered %d (%s)%s; the source is incomplete this run", status, code, how)
			e.Fix = "run again later, or raise " + c.key("max_retry_wait")
		default:
			e.Msg = fmt.Sprintf("Graph answered %d %s", status, code)
			e.Fix = "run again later; if it persists, report the Graph request ids in the log to Microsoft"
		}
	default:
		host, key := c.graphURL.Host, c.key("graph_url")
		var ue *url.Error
		if errors.As(err, &ue) {
			if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" && strings.HasPrefix(c.authority, "https://"+u.Host+"/") && u.Host != c.graphURL.Host {
				host, key = u.Host, c.key("token_url")
			}
		}
		// With the read's context still live, a deadline that passed is
		// the http.Client's: one request took longer than request_timeout.
		if isNetwork(err) || errors.Is(err, context.DeadlineExceeded) {
			c.network(e, err.Error(), host, key)
		}
	}
	return e
}

// explainApp is explain for a read of one application's service
// principal: a service principal Graph does not know names the key that
// configured it (entra.service_principal_id, entra.apps.NAME).
func (c *Collector) explainApp(ctx context.Context, err error, a appRef, what string, cnt *counter) error {
	err = c.explain(ctx, err, "/servicePrincipals", what, cnt)
	var e *Error
	if errors.As(err, &e) && e.Class == ClassConfig {
		code := ""
		var oe *odataerrors.ODataError
		if errors.As(e.Err, &oe) {
			code = odataCode(oe)
		}
		e.Msg = fmt.Sprintf("Graph has no service principal %s (%s): check %s (the enterprise application's object id, not its app id)", a.spID, code, c.appKey(a))
		e.Fix = "set " + c.appKey(a) + " to the object id shown under Enterprise applications"
	}
	return err
}

// permanentNetErr tells the transport errors that no retry within seconds
// can cure: an untrusted certificate, a name that does not resolve, a port
// nothing listens on. azcore's retry policy (on the token request) would
// otherwise retry them with back-off for seconds before the real message.
func permanentNetErr(err error) bool {
	t := strings.ToLower(err.Error())
	return strings.Contains(t, "x509:") || strings.Contains(t, "tls: failed to verify") || strings.Contains(t, "no such host") ||
		strings.Contains(t, "connection refused")
}

// isNetwork tells whether err happened below HTTP: no answer came.
func isNetwork(err error) bool {
	var ne net.Error
	var ope *net.OpError
	var de *net.DNSError
	var cve *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var rh tls.RecordHeaderError
	return errors.As(err, &ne) || errors.As(err, &ope) || errors.As(err, &de) || errors.As(err, &cve) ||
		errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) || errors.As(err, &rh) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// network classifies a failure to reach host from its text (azidentity
// keeps only the text) and says what to check. key is the setting that
// names the host.
func (c *Collector) network(e *Error, text, host, key string) {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "https://"), "/")
	t := strings.ToLower(text)
	switch {
	case strings.Contains(t, "no such host") || strings.Contains(t, "server misbehaving") || strings.Contains(t, "temporary failure in name resolution"):
		e.Class = ClassDNS
		e.Msg = fmt.Sprintf("the host name %s does not resolve (DNS): %s", host, lastCause(text))
		e.Fix = "check " + key + " for a typo, and this machine's DNS"
	case strings.Contains(t, "x509:") || strings.Contains(t, "tls:") || strings.Contains(t, "certificate"):
		e.Class = ClassTLS
		e.Msg = fmt.Sprintf("the TLS certificate of %s is not trusted: %s", host, lastCause(text))
		e.Fix = "if a TLS-inspecting proxy sits in between, set " + c.key("ca_file") + " to its CA certificate (PEM); otherwise check " + key
	case strings.Contains(t, "timeout") || strings.Contains(t, "deadline exceeded"):
		e.Class = ClassTimeout
		e.Msg = fmt.Sprintf("%s did not answer within %s (%s): %s", host, c.key("request_timeout"), c.cfg.RequestTimeout, lastCause(text))
		e.Fix = "check the network path to " + host + " (proxy, firewall), or raise " + c.key("request_timeout")
	case strings.Contains(t, "connection refused"):
		e.Class = ClassNetwork
		e.Msg = fmt.Sprintf("nothing accepts connections at %s (connection refused)", host)
		e.Fix = "check " + key + " (host and port), and any proxy (HTTPS_PROXY) or firewall in between"
	default:
		e.Class = ClassNetwork
		e.Msg = fmt.Sprintf("could not reach %s: %s", host, lastCause(text))
		e.Fix = "check the network path to " + host + " (proxy, firewall) and " + key
	}
}

// lastCause keeps the innermost part of a Go error chain's text ("Post
// \"https://...\": dial tcp 127.0.0.1:1: connect: connection refused").
func lastCause(s string) string {
	s = firstLine(s)
	if i := strings.LastIndex(s, "\": "); i >= 0 {
		s = s[i+3:]
	}
	return strings.TrimSpace(s)
}

var aadstsCode = regexp.MustCompile(`AADSTS(\d+)`)

// aadsts explains an answer of the token endpoint by its AADSTS code
// (learn.microsoft.com/entra/identity-platform/reference-error-codes).
func (c *Collector) aadsts(line string) (msg, fix string) {
	code := ""
	if m := aadstsCode.FindStringSubmatch(line); m != nil {
		code = m[1]
	}
	secret := c.cfg.ClientSecretEnv
	switch code {
	case "7000215":
		return fmt.Sprintf("Entra refused the client secret of application %s: %s; check the secret in %s (the secret's value, not its id)", c.cfg.ClientID, line, secret),
			"put the client secret's value (not its id) in " + secret
	case "7000222":
		return fmt.Sprintf("the client secret of application %s has expired: %s", c.cfg.ClientID, line),
			"create a new client secret for application " + c.cfg.ClientID + " and put its value in " + secret
	case "700016":
		return fmt.Sprintf("Entra has no application %s in tenant %s: %s", c.cfg.ClientID, c.cfg.TenantID, line),
			"check " + c.key("client_id") + " (the app registration's application id) and " + c.key("tenant_id")
	case "90002", "900023", "90013":
		return fmt.Sprintf("Entra does not know tenant %s: %s", c.cfg.TenantID, line), "check " + c.key("tenant_id") + " and " + c.key("token_url")
	}
	return fmt.Sprintf("Entra refused the client credentials of application %s: %s; check the secret in %s (the secret's value, not its id) and that it has not expired", c.cfg.ClientID, line, secret),
		"check " + c.key("client_id") + ", " + c.key("tenant_id") + " and the secret in " + secret
}

func odataCode(oe *odataerrors.ODataError) string {
	if e := oe.GetErrorEscaped(); e != nil && e.GetCode() != nil {
		msg := ""
		if e.GetMessage() != nil {
			msg = *e.GetMessage()
		}
		return *e.GetCode() + ": " + msg
	}
	return oe.Error()
}

// odataCodes lists the error codes of an ODataError, the main one and
// those of its details: Microsoft's error reference asks clients to look
// through all of them.
func odataCodes(oe *odataerrors.ODataError) []string {
	var out []string
	if e := oe.GetErrorEscaped(); e != nil {
		if e.GetCode() != nil {
			out = append(out, *e.GetCode())
		}
		for _, d := range e.GetDetails() {
			if d.GetCode() != nil {
				out = append(out, *d.GetCode())
			}
		}
	}
	return out
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "AADSTS") {
			return strings.TrimSpace(l)
		}
	}
	if i := strings.IndexByte(s, '\n'); i > 0 {
		return s[:i]
	}
	return s
}

func (c *Collector) redact(s string) string {
	if len(c.secret) >= 4 {
		s = strings.ReplaceAll(s, c.secret, "[REDACTED]")
	}
	return s
}
