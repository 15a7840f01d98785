package demo

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// ok is the success envelope {"success":true,"data":...}.
type ok struct {
	Success bool `json:"success"`
	Data    any  `json:"data,omitempty"`
}

// failure is the failure envelope {"success":false,"message":...}, with an
// optional machine-readable code and Laravel-style validation errors.
type failure struct {
	Success bool                `json:"success"`
	Code    string              `json:"code,omitempty"`
	Message string              `json:"message"`
	Errors  map[string][]string `json:"errors,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"success":false,"message":"Server error."}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeData(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, ok{Success: true, Data: data})
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, failure{Message: msg})
}

func writeCode(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, failure{Code: code, Message: msg})
}

// writeInvalid answers 422 with Laravel-style validation errors.
func writeInvalid(w http.ResponseWriter, errs map[string][]string) {
	writeJSON(w, http.StatusUnprocessableEntity, failure{Message: "The given data was invalid.", Errors: errs})
}

// readBody reads the request body, at most maxBody bytes. On failure it
// answers the request itself and returns false.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			writeError(w, http.StatusRequestEntityTooLarge, "Request body too large.")
		} else {
			writeError(w, http.StatusBadRequest, "Could not read the request body.")
		}
		return nil, false
	}
	return body, true
}

// readJSON decodes the JSON request body into dst; an empty body leaves dst
// as it is. On failure it answers the request itself and returns false.
func readJSON(w http.ResponseWriter, r *http.Request, dst any) bool {
	body, ok := readBody(w, r)
	if !ok {
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	if err := json.Unmarshal(body, dst); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid JSON body.")
		return false
	}
	return true
}

// bearer returns the token of an "Authorization: Bearer <token>" header,
// or "".
func bearer(r *http.Request) string {
	scheme, tok, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}
