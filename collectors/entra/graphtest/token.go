// token.go holds the Microsoft identity platform's side: the OpenID
// configuration and the client credentials token endpoint.

package graphtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

func (s *Server) openid(w http.ResponseWriter, r *http.Request) {
	tenant := strings.Split(strings.Trim(r.URL.Path, "/"), "/")[0]
	base := "https://" + r.Host + "/" + tenant
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"token_endpoint": base + "/oauth2/v2.0/token", "authorization_endpoint": base + "/oauth2/v2.0/authorize",
		"issuer": base + "/v2.0", "jwks_uri": base + "/discovery/v2.0/keys", "token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_types_supported": []string{"code", "id_token", "code id_token", "id_token token"}, "tenant_region_scope": "EU",
	})
}

// token implements the client credentials grant with a client secret.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	aadErr := func(status int, code string, n int, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"error": code, "error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Timestamp: %s", n, desc, requestID(), time.Now().UTC().Format("2006-01-02 15:04:05Z")),
			"error_codes": []int{n}, "timestamp": time.Now().UTC().Format("2006-01-02 15:04:05Z"), "trace_id": requestID(), "correlation_id": requestID()})
	}
	tenant := strings.Split(strings.Trim(r.URL.Path, "/"), "/")[0]
	r.ParseForm()
	id, secret := r.Form.Get("client_id"), r.Form.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, secret = u, p
	}
	switch {
	case r.Method != http.MethodPost:
		aadErr(http.StatusBadRequest, "invalid_request", 900561, "The endpoint only accepts POST requests.")
	case tenant != s.sc.TenantID:
		aadErr(http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found.", tenant))
	case r.Form.Get("grant_type") != "client_credentials":
		aadErr(http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
	case id != s.sc.ClientID:
		aadErr(http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory.", id))
	case secret != s.sc.ClientSecret || secret == "":
		aadErr(http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
	case !clientCredentialScope(r.Form.Get("scope")):
		aadErr(http.StatusBadRequest, "invalid_scope", 1002012, "The provided value for scope "+r.Form.Get("scope")+" is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.")
	default:
		s.mu.Lock()
		perms := slices.DeleteFunc(slices.Clone(s.sc.Permissions), func(p string) bool { return slices.Contains(s.faults.DropPermissions, p) })
		claims, _ := json.Marshal(map[string]any{"aud": "https://graph.microsoft.com", "tid": tenant, "appid": id, "roles": perms})
		tok := base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"RS256"}`)) + "." + base64.RawURLEncoding.EncodeToString(claims) + "." + requestID()
		s.tokens[tok] = perms
		s.stats.Tokens++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok})
	}
}

// clientCredentialScope accepts one resource scope ending in /.default,
// plus the OpenID scopes MSAL adds to every request, which the identity
// platform ignores for the client credentials grant.
func clientCredentialScope(scope string) bool {
	n := 0
	for _, s := range strings.Fields(scope) {
		switch {
		case s == "openid" || s == "offline_access" || s == "profile":
		case strings.HasSuffix(s, "/.default"):
			n++
		default:
			return false
		}
	}
	return n == 1
}
