package i18n

import "net/http"

// cookieMaxAge is the lifetime of the locale cookie, one year as next-intl's.
const cookieMaxAge = 365 * 24 * 60 * 60

// Cookie returns the locale cookie to set for locale, or nil when no cookie
// name is configured or locale is not a configured locale.
//
// The cookie is not HttpOnly, on purpose: it holds no secret (the locale is
// in the URL too), and a client-side language switcher must be able to
// overwrite it, which a browser forbids for an HttpOnly cookie. It is
// SameSite=Lax and lasts a year.
func (r *Router) Cookie(locale string) *http.Cookie {
	if r.cookie == "" || !r.set[locale] {
		return nil
	}
	return &http.Cookie{
		Name:     r.cookie,
		Value:    locale,
		Path:     r.path,
		Domain:   r.domain,
		MaxAge:   cookieMaxAge,
		Secure:   r.secure,
		SameSite: http.SameSiteLaxMode,
	}
}
