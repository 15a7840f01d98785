// Package respond writes the responses the gateway answers itself: the JSON
// bodies ({"success":false,"message":...}, docs/api-reference.md#error-bodies)
// for API requests and small HTML pages for page requests.
package respond

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
)

// The messages of docs/api-reference.md#error-bodies; clients match on them.
const (
	MsgTokenNotFound    = "Token not found."
	MsgNotAuthenticated = "Not authenticated."
	MsgNotAuthorized    = "You are not authorized for this action."
	MsgSessionExpired   = "Session expired."
	MsgUnavailable      = "Authentication service unavailable."
	MsgBadPath          = "Bad request path."
	MsgMethodNotAllowed = "Method not allowed."
	MsgTooLarge         = "Request body too large."
	MsgProxyError       = "Proxy error: Unable to connect to backend."
	MsgBackendTimeout   = "Backend timed out."
	MsgCSRF             = "CSRF validation failed."
	MsgTooManyRequests  = "Too many requests. Please try again later."
	MsgInternal         = "Internal error."
	MsgNotFound         = "Not found."
	MsgRequestTimeout   = "Request timeout."
)

// JSON writes v as the JSON body of a response with the given status.
func JSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"success":false,"message":"Internal error."}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// Error writes {"success":false,"message":msg} with the given status.
func Error(w http.ResponseWriter, status int, msg string) {
	JSON(w, status, failure{Message: msg})
}

// ErrorCode writes {"success":false,"message":msg,"code":code} with the
// given status: for a refusal a client program must recognise, whatever
// the sentence says (CodeCSRF).
func ErrorCode(w http.ResponseWriter, status int, code, msg string) {
	JSON(w, status, failure{Message: msg, Code: code})
}

// CodeCSRF is the code of a CSRF refusal: a client fetches a new token and
// retries once.
const CodeCSRF = "csrf"

type failure struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
	Code    string `json:"code,omitempty"`
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Status}} {{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}p{color:#555}</style>
</head><body><h1>{{.Status}} {{.Title}}</h1><p>{{.Detail}}</p></body></html>
`))

// Page writes a small HTML page for status with the given detail sentence.
func Page(w http.ResponseWriter, status int, detail string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	page.Execute(w, struct {
		Status        int
		Title, Detail string
	}{status, http.StatusText(status), detail})
}
