// client.go builds the Graph client: transport, credential, middleware
// and the hosts that receive a token.

package entra

import (
	"crypto/tls"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	kauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraph "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
)

// AllowedHosts is the host list given to the SDK's authentication
// provider. The provider silently sends no token to any other host, so it
// must be exactly graph_url's host, never the SDK's default list.
func (c *Collector) AllowedHosts() []string {
	if c.hosts != nil {
		return c.hosts
	}
	return []string{c.graphURL.Hostname()}
}

func (c *Collector) transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.roots != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: c.roots, MinVersion: tls.VersionTLS12}
	}
	return tr
}

// client builds the Graph client: azidentity client credentials against
// token_url's authority, the SDK's middleware with a retry handler whose
// total waiting is bounded by max_retry_wait (retry.go), and the allowed
// hosts from graph_url.
func (c *Collector) client(cnt *counter) (*msgraph.GraphServiceClient, error) {
	httpc := &http.Client{Transport: c.transport(), Timeout: c.cfg.RequestTimeout}
	cred, err := azidentity.NewClientSecretCredential(c.cfg.TenantID, c.cfg.ClientID, c.secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: c.authority},
			Transport: httpc,
			Retry: policy.RetryOptions{MaxRetries: 3, ShouldRetry: func(resp *http.Response, err error) bool {
				if err != nil {
					return !permanentNetErr(err)
				}
				// azcore's default list of retried statuses (policy.RetryOptions.StatusCodes).
				switch resp.StatusCode {
				case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
					http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
					return true
				}
				return false
			}},
		},
		// Instance discovery asks login.microsoftonline.com about the
		// authority; with a configured token_url there is nothing to ask.
		DisableInstanceDiscovery: c.authority != "https://login.microsoftonline.com/",
	})
	if err != nil {
		return nil, fmt.Errorf("entra: building the credential: %s", c.redact(err.Error()))
	}
	scope := c.graphURL.Scheme + "://" + c.graphURL.Host + "/.default"
	if c.graphURL.Host == "graph.microsoft.com" {
		scope = "https://graph.microsoft.com/.default"
	}
	auth, err := kauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, []string{scope}, c.AllowedHosts())
	if err != nil {
		return nil, fmt.Errorf("entra: building the authentication provider: %w", err)
	}
	cnt.budget = &budget{max: c.cfg.MaxRetryWait}
	mw, err := khttp.GetDefaultMiddlewaresWithOptions(cnt.budget.options())
	if err != nil {
		return nil, err
	}
	opts := msgraphcore.GraphClientOptions{GraphServiceVersion: "v1.0", GraphServiceLibraryVersion: "1.89.0"}
	mw = append([]khttp.Middleware{msgraphcore.NewGraphTelemetryHandler(&opts)}, mw...)
	cnt.base = c.transport()
	hc := &http.Client{Transport: khttp.NewCustomTransportWithParentTransport(cnt, mw...), Timeout: c.cfg.RequestTimeout}
	adapter, err := msgraph.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, hc)
	if err != nil {
		return nil, err
	}
	adapter.SetBaseUrl(c.graphURL.String())
	return msgraph.NewGraphServiceClient(adapter), nil
}
