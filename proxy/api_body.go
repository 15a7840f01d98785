package proxy

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/apilayer/apilayer/respond"
)

// Messages of the API proxy of its own.
const (
	apiMsgBadBody  = "Invalid request body."
	apiMsgBadJSON  = "Invalid JSON body."
	headerOverride = "X-HTTP-Method-Override"
)

// apiBodyGuard wraps the http.MaxBytesReader of a request body and
// remembers that the limit was hit, whatever the transport makes of the
// read error it gets.
type apiBodyGuard struct {
	rc       io.ReadCloser
	tooLarge atomic.Bool // read by the handler, set by the transport's writer
}

func (g *apiBodyGuard) Read(p []byte) (int, error) {
	n, err := g.rc.Read(p)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			g.tooLarge.Store(true)
		}
	}
	return n, err
}

func (g *apiBodyGuard) Close() error { return g.rc.Close() }

// apiIsJSON reports whether the media type is JSON (application/json or
// any +json type).
func apiIsJSON(mediaType string) bool {
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}

// apiJSONContentType reports whether a body with these Content-Type lines
// is sanitized as JSON: when "json" appears anywhere in them, in any case.
// That is application/json with any parameters, text/json, every +json
// type, and a list naming one of them: a backend may decode all of these
// as JSON (Laravel's isJson() accepts any type containing /json or +json),
// so a narrower test would let a body reach it unsanitized.
func apiJSONContentType(lines []string) bool {
	for _, v := range lines {
		for i := 0; i+len("json") <= len(v); i++ {
			if v[i]|0x20 == 'j' && v[i+1]|0x20 == 's' && v[i+2]|0x20 == 'o' && v[i+3]|0x20 == 'n' {
				return true
			}
		}
	}
	return false
}

// apiSpoofed reports whether method is one that method spoofing rewrites.
func apiSpoofed(method string) bool {
	return method == http.MethodPut || method == http.MethodPatch || method == http.MethodDelete
}

// prepareBody applies method spoofing and request sanitizing to r. Only
// when a body must be rewritten is it read whole (up to maxBody); any other
// body stays a stream. It reports false when it has answered the request
// itself.
func (a *API) prepareBody(w http.ResponseWriter, r *http.Request, call *apiCall) bool {
	mediaType, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	empty := r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0

	spoof := a.spoof.Enabled && apiSpoofed(r.Method)
	method := r.Method
	sanitize := a.sanitizer != nil && !empty && apiJSONContentType(r.Header["Content-Type"])
	bodySpoof := spoof && a.spoof.Strategy == "body" && apiSpoofableBody(mediaType, empty)

	if spoof && !bodySpoof {
		// Header strategy, or a body the body strategy cannot carry the
		// method in (binary, text, ...): the body is streamed untouched.
		r.Method = http.MethodPost
		call.override = method
	}
	if !sanitize && !bodySpoof {
		return true
	}

	var body []byte
	if !empty {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			a.answerBodyError(w, r, call, err)
			return false
		}
		body = b
	}
	if sanitize && len(bytes.TrimSpace(body)) > 0 {
		clean, err := a.sanitizer.Sanitize(call.endpoint, body)
		if err != nil {
			// Fail closed: a body the sanitizer cannot read is not
			// forwarded unsanitized.
			a.log.Info("proxy: api: request body not sanitized", append(a.logAttrs(r, call, http.StatusBadRequest), "error", err)...)
			respond.Error(w, http.StatusBadRequest, apiMsgBadJSON)
			return false
		}
		body = clean
	}
	if bodySpoof {
		r.Method = http.MethodPost
		if out, ct, ok := spoofBody(mediaType, params, body, a.spoof.FieldName, method); ok {
			body = out
			if ct != "" {
				r.Header.Set("Content-Type", ct)
			}
		} else {
			call.override = method
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
	r.TransferEncoding = nil
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	call.guard = nil // the body is in memory now
	return true
}

// answerBodyError answers a request whose body could not be read whole.
func (a *API) answerBodyError(w http.ResponseWriter, r *http.Request, call *apiCall, err error) {
	switch {
	case call.guard != nil && call.guard.tooLarge.Load():
		respond.Error(w, http.StatusRequestEntityTooLarge, respond.MsgTooLarge)
	case r.Context().Err() != nil:
		a.log.Debug("proxy: api: client gone while sending the body", a.logAttrs(r, call, StatusClientClosedRequest)...)
	default:
		a.log.Info("proxy: api: unreadable request body", append(a.logAttrs(r, call, http.StatusBadRequest), "error", err)...)
		respond.Error(w, http.StatusBadRequest, apiMsgBadBody)
	}
}
