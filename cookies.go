package apilayer

import (
	"net/http"
	"strings"
	"time"

	"github.com/apilayer/apilayer/config"
	"github.com/apilayer/apilayer/internal/cookieheader"
	"github.com/apilayer/apilayer/session"
)

// maxTokenLen bounds a token cookie's value. A longer value is never sent
// to the backend: it is treated as absent and deleted.
const maxTokenLen = 8 << 10

// jar writes the auth cookies with the attributes of config.Cookies.
type jar struct {
	user, guest, refresh string
	path, domain         string
	secure               config.Secure
	sameSite             http.SameSite
	maxAge, guestMaxAge  time.Duration
	refreshMaxAge        time.Duration
}

func newJar(c config.Cookies) *jar {
	j := &jar{
		user: c.User, guest: c.Guest, refresh: c.Refresh,
		path: c.Path, domain: c.Domain, secure: c.Secure,
		maxAge: c.MaxAge, guestMaxAge: c.GuestMaxAge, refreshMaxAge: c.RefreshMaxAge,
	}
	switch strings.ToLower(c.SameSite) {
	case "strict":
		j.sameSite = http.SameSiteStrictMode
	case "none":
		j.sameSite = http.SameSiteNoneMode
	default:
		j.sameSite = http.SameSiteLaxMode
	}
	return j
}

// tokens are the auth cookie values a request carried ("" = absent).
type tokens struct {
	user, guest, refresh string
	// junk lists cookies carried with unusable values (oversized), to delete.
	junk []string
}

// read takes the auth cookies from r. When a name is sent twice, the first
// one wins, as browsers send the most specific path first. It scans the
// Cookie header in place (r.Cookies would allocate every cookie of the
// site on every request); a value that is not RFC 6265 cookie-octets is
// ignored.
func (j *jar) read(r *http.Request) tokens {
	var t tokens
	for name, value := range cookieheader.All(r.Header) {
		var dst *string
		switch {
		case name == j.user:
			dst = &t.user
		case name == j.guest:
			dst = &t.guest
		case j.refresh != "" && name == j.refresh:
			dst = &t.refresh
		default:
			continue
		}
		value, ok := cookieheader.Value(value)
		if !ok || *dst != "" || value == "" {
			continue
		}
		if len(value) > maxTokenLen {
			t.junk = append(t.junk, name)
			continue
		}
		*dst = value
	}
	return t
}

// secureFor reports whether cookies set on a response to a request that came
// over proto get the Secure attribute.
func (j *jar) secureFor(proto string) bool {
	switch j.secure {
	case config.SecureAlways:
		return true
	case config.SecureNever:
		return false
	}
	return proto == "https"
}

func (j *jar) cookie(name, value string, maxAge time.Duration, secure bool) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     j.path,
		Domain:   j.domain,
		MaxAge:   int(maxAge / time.Second),
		Expires:  time.Now().Add(maxAge).UTC(),
		Secure:   secure,
		HttpOnly: true,
		SameSite: j.sameSite,
	}
}

// set writes a token cookie.
func (j *jar) set(w http.ResponseWriter, name, value string, secure bool) {
	age := j.maxAge
	switch name {
	case j.guest:
		age = j.guestMaxAge
	case j.refresh:
		age = j.refreshMaxAge
	}
	http.SetCookie(w, j.cookie(name, value, age, secure))
	markPrivate(w)
}

// del deletes a cookie with the Path and Domain it was set with.
func (j *jar) del(w http.ResponseWriter, name string, secure bool) {
	c := j.cookie(name, "", 0, secure)
	c.MaxAge = -1
	c.Expires = time.Unix(0, 0).UTC()
	http.SetCookie(w, c)
	markPrivate(w)
}

// writeCookies writes the cookie changes the session layer decided, or, when
// clear is set, deletes every auth cookie the request carried.
func (g *Gateway) writeCookies(w http.ResponseWriter, t tokens, out session.Outcome, clear, secure bool) effective {
	for _, name := range t.junk {
		g.jar.del(w, name, secure)
	}
	if clear {
		for _, c := range [...]struct{ name, value string }{{g.jar.user, t.user}, {g.jar.guest, t.guest}, {g.jar.refresh, t.refresh}} {
			if c.name != "" && c.value != "" {
				g.jar.del(w, c.name, secure)
			}
		}
		return effective{changed: true}
	}
	e := effective{user: t.user, guest: t.guest, refresh: t.refresh, changed: len(t.junk) > 0}
	change := func(name string, carried string, set string, del bool, dst *string) {
		switch {
		case set != "":
			g.jar.set(w, name, set, secure)
			*dst, e.changed = set, true
		case del && carried != "":
			g.jar.del(w, name, secure)
			*dst, e.changed = "", true
		}
	}
	change(g.jar.user, t.user, out.Set.User, out.Delete.User, &e.user)
	change(g.jar.guest, t.guest, out.Set.Guest, out.Delete.Guest, &e.guest)
	if g.jar.refresh != "" {
		change(g.jar.refresh, t.refresh, out.Set.Refresh, out.Delete.Refresh, &e.refresh)
	}
	if out.Refreshed || out.Minted {
		e.refreshed = out.Token
	}
	return e
}
