// Package i18n resolves the locale of a request for the apilayer gateway
// (i18n.*, docs/i18n.md).
//
// A [Router] is built once from [Options] and is safe for concurrent use. It
// separates deciding from responding: [Router.Resolve] looks at a request and
// returns a [Result] (the locale, the path with its locale prefix stripped
// for route matching, and the locale redirect and cookie that page routing
// wants), and the gateway's pipeline writes the response. The auth decision is
// taken before the locale redirect and always wins over it: a login redirect
// or a 401 is never replaced by a locale redirect.
//
// # Locale of a request
//
// The locale is the first path segment when it is one of Options.Locales,
// compared exactly and case-sensitively (/tr/x is Turkish, /TR/x and /trx
// are not prefixed), as the TypeScript library did. Otherwise (API requests
// and unprefixed pages) it is, in order: the locale cookie (Options.Cookie)
// when it names a configured locale, exactly; the best match of the
// Accept-Language header (q-values, regions and scripts, through
// golang.org/x/text/language, so tr-TR selects tr and pt selects pt-BR);
// Options.DefaultLocale. A cookie naming a locale that is not configured, and
// an Accept-Language entry that cannot be parsed, are ignored.
//
// The locale prefix is stripped for route matching whatever Options.Prefix
// says: /tr is /, /tr/login/ is /login/ (the trailing slash is kept).
//
// # Page locale routing
//
// Options.Prefix says how page URLs carry the locale, as next-intl's
// middleware does. API requests never get a locale redirect.
//
//   - "never" (or ""): no redirect; the prefix is still honoured and stripped.
//   - "as-needed": the default locale has no prefix (/en/x redirects to /x),
//     other locales keep theirs, and an unprefixed page whose detected locale
//     is not the default redirects to the prefixed path (/x to /tr/x).
//   - "always": every unprefixed page redirects to /<locale> + path.
//
// Redirects keep the query string and are always same-site paths. With
// prefix as-needed or always, when the locale of a page comes from the path
// prefix and the request's locale cookie does not already say so, Result.SetCookie asks the gateway to (re)set the cookie, so
// an explicit choice (a language switcher linking to /en/x) is remembered and
// the as-needed redirect /en/x to /x does not bounce back to another locale.
//
// Redirect targets of the gateway itself (login and home paths) keep the
// locale of a prefixed request through [Router.Localize]: /tr/dashboard
// redirects to /tr/login. An unprefixed request gets the path
// as configured; with prefix always or as-needed, the locale redirect of the
// next request adds the prefix.
package i18n
