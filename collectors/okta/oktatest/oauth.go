package oktatest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	neturl "net/url"
	"slices"
	"strings"
	"time"
)

func queryEscape(s string) string { return neturl.QueryEscape(s) }

// token implements POST /oauth2/v1/token for service apps: the client
// credentials grant with a private_key_jwt client assertion, as Okta's
// org authorization server does for the Management API.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	oauthErr := func(status int, code, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost {
		oauthErr(http.StatusMethodNotAllowed, "invalid_request", "POST only")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthErr(http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	if r.Form.Get("grant_type") != "client_credentials" {
		oauthErr(http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
		return
	}
	if r.Form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		oauthErr(http.StatusUnauthorized, "invalid_client", "client_assertion_type is missing or invalid.")
		return
	}
	c := s.sc.OAuth
	if c == nil {
		oauthErr(http.StatusUnauthorized, "invalid_client", "The client_assertion token is invalid.")
		return
	}
	claims, ok := verifyRS256(r.Form.Get("client_assertion"), c.PublicKey)
	if !ok {
		oauthErr(http.StatusUnauthorized, "invalid_client", "The client_assertion signature is invalid.")
		return
	}
	wantAud := "http://" + r.Host + "/oauth2/v1/token"
	if claims.Iss != c.ClientID || claims.Sub != c.ClientID || claims.Aud != wantAud || time.Unix(claims.Exp, 0).Before(time.Now()) {
		oauthErr(http.StatusUnauthorized, "invalid_client", "The client_assertion token is invalid (iss, sub, aud or exp).")
		return
	}
	if c.RequireDPoP {
		// What Okta's org authorization server answers when the app
		// requires DPoP-bound tokens and the token request has no DPoP
		// header (Okta support: "The DPoP Proof JWT Header Is Missing";
		// developer.okta.com/docs/guides/dpop). A request with a proof is
		// not modelled: idgraph sends none (okta-sdk-golang v2 has no DPoP).
		if r.Header.Get("DPoP") == "" {
			oauthErr(http.StatusBadRequest, "invalid_dpop_proof", "The DPoP proof JWT header is missing.")
		} else {
			oauthErr(http.StatusBadRequest, "invalid_dpop_proof", "The simulator does not verify DPoP proofs.")
		}
		return
	}
	requested := strings.Fields(r.Form.Get("scope"))
	for _, sc := range requested {
		if !slices.Contains(c.Scopes, sc) {
			oauthErr(http.StatusBadRequest, "invalid_scope", "The following scopes are not allowed: "+sc)
			return
		}
	}
	b := make([]byte, 24)
	rand.Read(b)
	tok := "sim." + hex.EncodeToString(b)
	s.mu.Lock()
	s.tokens[tok] = requested
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3600, "access_token": tok, "scope": strings.Join(requested, " ")})
}

type jwtClaims struct {
	Iss string `json:"iss"`
	Sub string `json:"sub"`
	Aud string `json:"aud"`
	Exp int64  `json:"exp"`
}

func verifyRS256(tok string, pub *rsa.PublicKey) (jwtClaims, bool) {
	var c jwtClaims
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || pub == nil {
		return c, false
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	pb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &hdr) != nil || hdr.Alg != "RS256" {
		return c, false
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) != nil {
		return c, false
	}
	return c, json.Unmarshal(pb, &c) == nil
}
