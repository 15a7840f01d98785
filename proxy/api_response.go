package proxy

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// modifyResponse filters the backend's answer, 101 Switching Protocols
// included: the gateway's own cookies cannot be set by the backend, the
// internal headers never reach the browser, and JSON bodies are sanitized
// when SanitizeResponses is on. Every other header, every other Set-Cookie
// line (each kept on its own) and the status pass through.
func (a *API) modifyResponse(res *http.Response) error {
	if a.tracer != nil {
		spanStatus(res)
	}
	dropReservedCookies(res.Header, a.reserved)
	StripFromResponse(res.Header)
	if a.sanResp {
		return a.sanitizeResponse(res)
	}
	return nil
}

// sanitizeResponse passes an identity-encoded JSON body through the
// sanitizer. The body is read whole, up to maxBody; a larger one is passed
// through unsanitized with a warning (failing it would break the
// application for an oversized but legitimate answer).
func (a *API) sanitizeResponse(res *http.Response) error {
	if res.Request.Method == http.MethodHead || res.StatusCode < 200 ||
		res.StatusCode == http.StatusNoContent || res.StatusCode == http.StatusNotModified {
		return nil
	}
	if ce := res.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return nil
	}
	if !apiJSONContentType(res.Header["Content-Type"]) {
		return nil
	}
	call := apiCallFrom(res.Request.Context())
	if res.ContentLength > a.maxBody {
		a.log.Warn("proxy: api: response too large to sanitize, passed through",
			append(a.logAttrs(res.Request, call, res.StatusCode), "content_length", res.ContentLength)...)
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, a.maxBody+1))
	if err != nil {
		res.Body.Close()
		return fmt.Errorf("proxy: read backend response: %w", err)
	}
	if int64(len(body)) > a.maxBody {
		a.log.Warn("proxy: api: response too large to sanitize, passed through",
			a.logAttrs(res.Request, call, res.StatusCode)...)
		res.Body = apiPrefixedBody{Reader: io.MultiReader(bytes.NewReader(body), res.Body), Closer: res.Body}
		return nil
	}
	res.Body.Close()
	if len(bytes.TrimSpace(body)) > 0 {
		clean, err := a.sanitizer.Sanitize(call.endpoint, body)
		if err != nil {
			// Not JSON after all: a browser will not render it as HTML
			// under a JSON Content-Type, so it is passed through.
			a.log.Warn("proxy: api: response not sanitized",
				append(a.logAttrs(res.Request, call, res.StatusCode), "error", err)...)
		} else {
			if !bytes.Equal(clean, body) {
				// The validators described the backend's bytes.
				res.Header.Del("Etag")
				res.Header.Del("Content-Md5")
				res.Header.Del("Digest")
			}
			body = clean
		}
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	res.ContentLength = int64(len(body))
	res.TransferEncoding = nil
	res.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

// apiPrefixedBody is a response body whose first bytes were already read.
type apiPrefixedBody struct {
	io.Reader
	io.Closer
}
