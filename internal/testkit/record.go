package testkit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
)

// maxRecordedBody is how much of a request body is recorded.
const maxRecordedBody = 1 << 20

// maxRecorded bounds the requests a recorder keeps: past it, the older
// half is forgotten.
const maxRecorded = 10000

// Recorded is one request as a test server received it.
type Recorded struct {
	Method   string
	Host     string
	Path     string // r.URL.Path
	RawQuery string
	Query    url.Values
	Header   http.Header
	Cookies  []*http.Cookie
	Body     []byte // at most 1 MiB
}

// Cookie returns the value of the named request cookie.
func (rec Recorded) Cookie(name string) (string, bool) {
	for _, c := range rec.Cookies {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

// AuthUser decodes the X-Auth-User header (standard base64 of a JSON
// object); it returns nil and no error when the header is absent.
func (rec Recorded) AuthUser() (map[string]any, error) {
	enc := rec.Header.Get("X-Auth-User")
	if enc == "" {
		return nil, nil
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("testkit: X-Auth-User: %w", err)
	}
	var u map[string]any
	if err := json.Unmarshal(raw, &u); err != nil {
		return nil, fmt.Errorf("testkit: X-Auth-User: %w", err)
	}
	return u, nil
}

// recorder keeps the requests a server received.
type recorder struct {
	mu   sync.Mutex
	reqs []Recorded // guarded by mu
}

// record stores r, reading up to maxRecordedBody of its body and leaving the
// body whole for the handler.
func (rc *recorder) record(r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxRecordedBody))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	rec := Recorded{
		Method:   r.Method,
		Host:     r.Host,
		Path:     r.URL.Path,
		RawQuery: r.URL.RawQuery,
		Query:    r.URL.Query(),
		Header:   r.Header.Clone(),
		Cookies:  r.Cookies(),
		Body:     body,
	}
	rc.mu.Lock()
	if len(rc.reqs) >= maxRecorded {
		// Drop the older half at once, so that recording stays cheap.
		rc.reqs = append(rc.reqs[:0], rc.reqs[maxRecorded/2:]...)
	}
	rc.reqs = append(rc.reqs, rec)
	rc.mu.Unlock()
}

func (rc *recorder) requests() []Recorded {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Recorded(nil), rc.reqs...)
}

func (rc *recorder) last() Recorded {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.reqs) == 0 {
		return Recorded{}
	}
	return rc.reqs[len(rc.reqs)-1]
}

func (rc *recorder) reset() {
	rc.mu.Lock()
	rc.reqs = nil
	rc.mu.Unlock()
}
