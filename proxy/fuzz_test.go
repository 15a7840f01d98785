package proxy

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzForgedHeaders sends requests with fuzzed header names (any case,
// '_' for '-', repeated) and a fuzzed Connection header through both
// proxies, behind a front server that sets the gateway's own headers as
// the pipeline would, to recording servers. The invariant: no reserved
// header (identity, X-Middleware-*, forwarded family, X-Request-ID,
// routing override, Cookie, Authorization), in any spelling an app server
// reads as it, reaches a server except the gateway's own values, and every
// header the gateway set arrives.
func FuzzForgedHeaders(f *testing.F) {
	f.Add("X_Auth_User\nx_auth_user\nX-AUTH-USER", "X-Auth-User, Cookie")
	f.Add("X_Middleware_Subrequest\nX_Forwarded_For\nX_Real_IP\nX_Request_ID\nX_Request_ID",
		"x-request-id, X_Request_Id, authorization, x-forwarded-for, X-Real-Ip")
	f.Add("X-Http-Method-Override\nX_Original_URL\nx-rewrite-url\nX-Forwarded-Prefix\nX_Forwarded_Port",
		"X-Auth-Token-Type, X-Locale, X-Refreshed-Token, X-Auth-Assertion, X-Auth-User-Truncated")
	f.Add("Upgrade\nX_Auth_Token_Type\nx_locale", "Upgrade, X-Auth-User, x_auth_user")
	f.Add("Cf_Connecting_Ip\nTrue_Client_Ip\nForwarded\nx-forwarded-host", "")
	f.Add("X-Auth-User-Truncated\nX_AUTH_ASSERTION\nX_Refreshed_Token", "Cookie, Authorization, X-Request-Id, X-Forwarded-Proto")

	proxies := hygieneProxies(f, nil)
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: 4},
		Timeout:   10 * time.Second,
	}
	f.Cleanup(client.CloseIdleConnections)

	f.Fuzz(func(t *testing.T, names, connection string) {
		for _, p := range proxies {
			req, err := http.NewRequest(http.MethodGet, p.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			for name := range strings.SplitSeq(names, "\n") {
				req.Header[name] = append(req.Header[name], "forged")
			}
			req.Header["Connection"] = append(req.Header["Connection"], connection)
			res, err := client.Do(req)
			if err != nil {
				// A name or value the client refuses to send: nothing
				// reached the gateway.
				continue
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			p.rec.mu.Lock()
			seen := p.rec.seen
			p.rec.seen = nil
			p.rec.mu.Unlock()
			// None when the front server refused the request itself (a
			// bad Expect, headers too large).
			for _, h := range seen {
				hygieneCheck(t, p, h)
			}
		}
	})
}
