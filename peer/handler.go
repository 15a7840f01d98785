package peer

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/apilayer/apilayer/respond"
	"github.com/apilayer/apilayer/route"
)

// The peer endpoints. Everything under /_apilayer/peer/, in any spelling
// (Reserved), is answered by the gateway itself and never forwarded.
const (
	PingPath    = "/_apilayer/peer/ping"    // GET: the instance's id
	RefreshPath = "/_apilayer/peer/refresh" // POST: a relayed refresh
)

// maxRequest bounds the body of a request to a peer endpoint.
const maxRequest = 64 << 10

// Refresher runs a refresh that another instance relayed to this one, the
// token's owner: through this instance's single-flight and successor
// records, never relayed again. The answer's new tokens are sealed for
// client, as a successor record of cred is.
type Refresher interface {
	Relayed(ctx context.Context, cred, client string) (Answer, error)
}

// Reserved reports whether the escaped request path escapedPath is under
// /_apilayer/peer/ in any spelling a server behind the gateway could read
// that way: escapes (%5F, %2F), dot segments and doubled slashes, any
// letter case, backslashes as separators, ";parameters" cut from a
// segment. Such a request is answered by the peer handler (403 unless it
// is a signed ping or refresh), never forwarded. A path the gateway
// refuses anyway (route.Clean not ok: 400) is not reported.
func Reserved(escapedPath string) bool {
	// Every spelling of "_apilayer" holds "_" or its escape.
	if strings.IndexByte(escapedPath, '_') < 0 && !strings.Contains(escapedPath, "%5F") &&
		!strings.Contains(escapedPath, "%5f") {
		return false
	}
	p, ok := route.Clean(escapedPath)
	if !ok {
		return false
	}
	p = strings.ReplaceAll(strings.ReplaceAll(p, "%5C", "/"), `\`, "/")
	want := [...]string{"_apilayer", "peer"}
	n := 0
	for seg := range strings.SplitSeq(p, "/") {
		seg, _, _ = strings.Cut(seg, ";")
		if seg == "" {
			continue
		}
		if !strings.EqualFold(seg, want[n]) {
			return false
		}
		if n++; n == len(want) {
			return true
		}
	}
	return false
}

// Handler returns the handler of the peer endpoints, for every path
// Reserved reports: a signed GET PingPath answers this instance's id, a
// signed POST RefreshPath runs the refresh through r; anything else
// (another path, method or spelling, no signature or a bad one, a time
// outside MaxSkew, a nonce seen before) is 403. Every answer to a signed
// request is signed.
func (s *Set) Handler(r Refresher) http.Handler { return &handler{s: s, r: r} }

type handler struct {
	s *Set
	r Refresher
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	ok := (r.Method == http.MethodGet && path == PingPath) || (r.Method == http.MethodPost && path == RefreshPath)
	if !ok {
		forbid(w)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequest))
	if err != nil {
		forbid(w)
		return
	}
	defer clear(body)
	nonce, err := h.s.sig.verify(r, body)
	if err != nil {
		// Debug only: anyone can send these.
		h.s.log.Debug("peer: request refused", slog.String("path", path), slog.String("remote", r.RemoteAddr), slog.Any("error", err))
		forbid(w)
		return
	}
	if path == PingPath {
		h.answer(w, nonce, http.StatusOK, struct {
			ID string `json:"id"`
		}{h.s.id})
		return
	}
	var req refreshRequest
	if err := json.Unmarshal(body, &req); err != nil || req.Credential == "" || len(req.From) != 32 {
		h.answer(w, nonce, http.StatusBadRequest, errorBody("Bad request."))
		return
	}
	if h.r == nil {
		h.answer(w, nonce, http.StatusServiceUnavailable, errorBody(respond.MsgUnavailable))
		return
	}
	// Two instances asking each other about one token (their views of
	// the live peers differ for a moment) would each wait for the other:
	// the smaller id yields at once, and the other refreshes for both.
	if h.s.id < req.From && h.s.relayingTo(tokenKey(req.Credential), req.From) {
		h.answer(w, nonce, http.StatusConflict, errorBody("The owner yields."))
		return
	}
	a, err := h.r.Relayed(r.Context(), req.Credential, req.Client)
	switch {
	case err != nil:
		h.s.log.Debug("peer: relayed refresh not done", slog.Any("error", err))
		h.answer(w, nonce, http.StatusServiceUnavailable, errorBody(respond.MsgUnavailable))
	default:
		h.answer(w, nonce, http.StatusOK, a)
	}
}

type errBody struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
}

func errorBody(msg string) errBody { return errBody{Message: msg} }

// answer writes v as the JSON answer with status to the request with
// nonce, signed.
func (h *handler) answer(w http.ResponseWriter, nonce string, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"success":false,"message":"Internal error."}`)
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	h.s.sig.signAnswer(hd, nonce, status, body)
	w.WriteHeader(status)
	w.Write(body)
	clear(body)
}

// forbid answers an unsigned (or badly signed) request.
func forbid(w http.ResponseWriter) {
	respond.Error(w, http.StatusForbidden, respond.MsgNotAuthorized)
}
