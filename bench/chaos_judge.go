package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
)

// The kinds of request the chaos load sends.
const (
	kindPage      = "page"      // a public page, /products/<n>
	kindProtected = "protected" // a protected page, /account
	kindAPI       = "api"       // GET /api/data through the API proxy
	kindSlowPage  = "slow-page" // a page the web app answers slowly (in flight at SIGTERM)
	kindSlowAPI   = "slow-api"  // an API call the backend answers slowly (in flight at SIGTERM)
	kindUpload    = "upload"    // a slow-body client
)

// Who sent a request.
const (
	whoUser    = "user"    // a user whose session is valid at the backend
	whoEnded   = "ended"   // a user whose session the test ended at the backend
	whoVisitor = "visitor" // a visitor without an account (guest or no token)
)

// The gateway's own messages the judge recognizes (package respond).
const (
	msgUnavailable    = "Authentication service unavailable."
	msgProxyError     = "Proxy error: Unable to connect to backend."
	msgBackendTimeout = "Backend timed out."
	msgRequestTimeout = "Request timeout."
)

// answer is what one request of the load got, with what the judge needs to
// know about the moment it was made.
type answer struct {
	kind     string
	who      string
	userID   int
	status   int
	err      error
	msg      string // the message of an API answer's JSON
	ident    string // whose identity reached the app: "user:<id>", "guest", "none"
	location string // of a redirect
	deleted  bool   // the answer deleted the user cookie
	// gate: the request overlapped a backend outage, from the moment the
	// backend failed until every breaker of every instance closed again:
	// the contract's "unavailable" answers are due.
	gate bool
	// fault: the request overlapped the backend failing (or hanging)
	// itself: the API proxy's 502/504 and the backend's own 503 are due.
	fault bool
	// owed: the user's refresh failed as unavailable during an outage,
	// and the gateway may still remember it (per token, up to 30 s).
	owed bool
}

// verdict is the judge's view of an answer.
type verdict struct {
	failed  bool
	reason  string // why it failed
	logout  bool   // a user's cookie was deleted while the session was valid
	ended   bool   // an ended user's cookie was deleted, as due
	unavail bool   // a contract "unavailable" answer (503, or a page without identity in an outage)
}

func fail(format string, args ...any) verdict {
	return verdict{failed: true, reason: fmt.Sprintf(format, args...)}
}

// judge decides whether an answer is what the contract promises
// (docs/how-it-works.md, docs/distributed.md). Failures: a transport
// error, a 5xx or 429 the contract does not answer there, an unexpected
// 401 or redirect to the login page, another user's identity, a user
// page forwarded without identity outside an outage, and a logout.
func judge(a answer) verdict {
	if a.err != nil {
		return fail("%s: transport error: %s", a.kind, errKind(a.err))
	}
	if a.deleted {
		if a.who == whoUser {
			return verdict{failed: true, logout: true, reason: fmt.Sprintf("%s: logout (user cookie deleted, %d)", a.kind, a.status)}
		}
		if a.who == whoEnded {
			return verdict{ended: true}
		}
	}
	mayBeDown := a.gate || (a.owed && a.who == whoUser)
	own := "user:" + strconv.Itoa(a.userID)
	if strings.HasPrefix(a.ident, "user:") && a.ident != own {
		return fail("%s: %s got the identity of %s", a.kind, own, a.ident)
	}
	switch a.kind {
	case kindUpload:
		return fail("upload: judged by the slow-body check")
	case kindSlowPage, kindSlowAPI:
		if a.status != http.StatusOK {
			return fail("%s: in flight at SIGTERM, answered %d", a.kind, a.status)
		}
		return verdict{}
	case kindAPI:
		return judgeAPI(a, mayBeDown, own)
	}
	return judgePage(a, mayBeDown, own)
}

func judgeAPI(a answer, mayBeDown bool, own string) verdict {
	switch {
	case a.status == http.StatusOK:
		want := own
		if a.who == whoVisitor {
			want = "guest"
		}
		if a.ident == want || (a.who == whoEnded && a.ident == "guest") {
			return verdict{}
		}
		return fail("api: %s got data for %q", a.who, a.ident)
	case a.status == http.StatusServiceUnavailable && a.msg == msgUnavailable:
		if mayBeDown {
			return verdict{unavail: true}
		}
		return fail("api: 503 unavailable outside an outage (%s)", a.who)
	case a.status == http.StatusBadGateway && a.msg == msgProxyError,
		a.status == http.StatusGatewayTimeout && a.msg == msgBackendTimeout,
		a.status == http.StatusServiceUnavailable && a.msg == backendDown:
		if a.fault {
			return verdict{unavail: true}
		}
		return fail("api: %d %q while the backend was up", a.status, a.msg)
	case a.status == http.StatusUnauthorized && a.who == whoEnded:
		return verdict{}
	}
	return fail("api: %s answered %d %q", a.who, a.status, a.msg)
}

func judgePage(a answer, mayBeDown bool, own string) verdict {
	login := a.status == http.StatusTemporaryRedirect && strings.HasPrefix(a.location, "/login")
	switch {
	case a.status == http.StatusServiceUnavailable:
		if mayBeDown {
			return verdict{unavail: true}
		}
		return fail("%s: 503 page outside an outage (%s)", a.kind, a.who)
	case a.who == whoEnded:
		if a.status == http.StatusOK || login {
			return verdict{}
		}
	case a.who == whoVisitor:
		switch {
		case a.kind == kindProtected && login:
			return verdict{}
		case a.kind == kindPage && a.status == http.StatusOK && a.ident == "guest":
			return verdict{}
		case a.kind == kindPage && a.status == http.StatusOK && a.ident == "none" && a.gate:
			return verdict{unavail: true}
		}
	case a.status == http.StatusOK && a.ident == own:
		return verdict{}
	case a.status == http.StatusOK && a.ident == "none" && a.kind == kindPage && mayBeDown:
		return verdict{unavail: true}
	case login:
		return fail("%s: user redirected to the login page", a.kind)
	}
	return fail("%s: %s answered %d (identity %q)", a.kind, a.who, a.status, a.ident)
}

// errKind names a transport error briefly.
func errKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "EOF"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	s := err.Error()
	if len(s) > 80 {
		s = s[len(s)-80:]
	}
	return s
}
