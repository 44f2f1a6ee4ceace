// Package okta reads users, groups and the assignments of the configured
// applications from Okta through the official SDK
// (github.com/okta/okta-sdk-golang/v2).
//
// Configuration (one org):
//
//	okta:
//	  org_url: https://acme.okta.com
//	  token_env: OKTA_API_TOKEN          # SSWS API token, or:
//	  client_id: 0oa...                  # OAuth 2.0 service app
//	  private_key_env: OKTA_PRIVATE_KEY  # its PEM private key (private key JWT)
//	  private_key_id: kid                # optional key id
//	  scopes: [okta.users.read, okta.groups.read, okta.apps.read, okta.roles.read]
//	  app_id: 0oa1abcd                   # one application, or several by name:
//	  # apps: {stonly: 0oa1abcd, notion: 0oa2efgh}
//	  role_attribute: role               # app-user profile attribute holding the role
//	  request_timeout: 2m                # one call, including its retries
//	  max_retries: 4                     # 5xx and network errors; 429s wait for the reset
//	  max_concurrency: 8                 # requests in flight at once (Okta limits them per org)
//
// Several orgs: okta is then a list of such mappings, each with a name,
// which names the source (its accounts and its completeness record):
//
//	okta:
//	  - {name: okta, org_url: https://acme.okta.com, token_env: OKTA_API_TOKEN, app_id: 0oa1abcd}
//	  - {name: okta-acquisicorp, org_url: https://acquisicorp.okta.com, token_env: ACQ_OKTA_TOKEN, apps: {stonly: 0oa9}}
//
// The code: config.go (the section and its checks), okta.go (the
// collector and the SDK client), collect.go (one read), pager.go (every
// list), users.go, groups.go, apps.go (what each list becomes), accounts.go
// (the accounts while a read runs), incremental.go, roles.go (the admin
// role check), check.go (doctor), errors.go (what a failure means),
// transport.go (pacing, retries, concurrency under the SDK).
package okta

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/idgraph/idgraph/collectors"
)

// Version is recorded in evidence manifests.
const Version = "okta/2 (okta-sdk-golang v2.20.0)"

func init() {
	// okta: one mapping (the source "okta") or a list of mappings, each
	// with a name: several orgs, e.g. after an acquisition.
	collectors.Register("okta", collectors.OneOrMany("okta", func(name string, c Config, env collectors.Env) (collectors.Collector, error) {
		return New(name, c, env)
	}))
}

// Collector reads one Okta org.
type Collector struct {
	name   string   // the source's name: "okta", or an entry's name in the okta list
	apps   []appRef // the applications read, by name
	cfg    Config
	token  string // SSWS token, or
	key    string // PEM private key
	secret []string
	base   http.RoundTripper // for tests; nil: http.DefaultTransport
}

// Loopback reports whether host is this machine.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Info describes the source.
func (c *Collector) Info() collectors.Info {
	return collectors.Info{Name: c.name, Type: "okta", Kind: collectors.KindIdP, Version: Version}
}

func (c *Collector) maxRetries() int {
	if c.cfg.MaxRetries != nil {
		return *c.cfg.MaxRetries
	}
	return 4
}

func (c *Collector) client(ctx context.Context, tr *transport) (*sdk.Client, error) {
	opts := []sdk.ConfigSetter{
		sdk.WithOrgUrl(c.cfg.OrgURL),
		// The SDK caches GET responses by default; a nightly reconciliation
		// must see today's data, never yesterday's.
		sdk.WithCache(false),
		sdk.WithHttpClientPtr(&http.Client{Transport: tr}),
		sdk.WithRequestTimeout(int64(c.cfg.RequestTimeout / time.Second)),
		sdk.WithRateLimitMaxRetries(int32(c.maxRetries())),
		sdk.WithRateLimitMaxBackOff(120),
		sdk.WithUserAgentExtra("idgraph"),
	}
	if u, _ := url.Parse(c.cfg.OrgURL); u.Scheme == "http" && Loopback(u.Hostname()) {
		// Only a simulator on this machine may be reached without TLS.
		opts = append(opts, sdk.WithTestingDisableHttpsCheck(true))
	}
	if c.token != "" {
		opts = append(opts, sdk.WithAuthorizationMode("SSWS"), sdk.WithToken(c.token))
	} else {
		opts = append(opts, sdk.WithAuthorizationMode("PrivateKey"), sdk.WithClientId(c.cfg.ClientID),
			sdk.WithScopes(c.cfg.Scopes), sdk.WithPrivateKey(c.key), sdk.WithToken(""))
		if c.cfg.PrivateKeyID != "" {
			opts = append(opts, sdk.WithPrivateKeyId(c.cfg.PrivateKeyID))
		}
	}
	_, client, err := sdk.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("okta: configuring the SDK: %s", c.redact(err.Error()))
	}
	return client, nil
}

// redact removes the secrets from text that may be logged.
func (c *Collector) redact(s string) string {
	for _, sec := range c.secret {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}
