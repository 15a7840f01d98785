package config

// nextAPILayerHints are the option names of next-api-layer (createAuthProxy
// and createProxyHandler) that are not apilayer keys at the same place, by
// the YAML path where a migrating user would write them. An unknown key
// found there gets the hint instead of a nearest-name guess. The full
// mapping is docs/migrating-from-next-api-layer.md.
var nextAPILayerHints = map[string]string{
	// createAuthProxy, top level.
	"apiBaseUrl":                     movedTo("backend.url"),
	"endpoints":                      movedTo("backend.endpoints"),
	"guestToken":                     movedTo("guest"),
	"protectedRoutes":                movedTo("access.protectedRoutes"),
	"authRoutes":                     movedTo("access.authRoutes"),
	"publicRoutes":                   movedTo("access.publicRoutes"),
	"protectedByDefault":             movedTo("access.protectedByDefault"),
	"allowedTokenTypes":              movedTo("access.allowedTokenTypes"),
	"guestFallbackOnUserRefreshFail": movedTo("refresh.guestFallback"),
	"excludedPaths":                  movedTo("access.excludedPaths"),
	"blockBrowserApiAccess":          movedTo("access.blockBrowserApiAccess"),
	"responseMappers":                "next-api-layer's responseMappers are JSON Pointers under backend.mapping",
	"cache":                          "did you mean validate.cacheTTL and validate.cacheSize?",
	"beforeAuth":                     codeOnly("beforeAuth"),
	"afterAuth":                      codeOnly("afterAuth"),
	"onError":                        "next-api-layer's onError has no key: errors go to the log (log.level) and the audit event error",

	// createProxyHandler, top level.
	"userCookieName":    movedTo("cookies.user"),
	"guestCookieName":   movedTo("cookies.guest"),
	"skipAuthByDefault": movedTo("api.skipAuthByDefault"),
	"publicEndpoints":   movedTo("api.publicEndpoints"),
	"forwardHeaders":    "next-api-layer's forwardHeaders has no key: the API proxy's header policy is fixed",
	"excludeHeaders":    "next-api-layer's excludeHeaders has no key: the API proxy's header policy is fixed",
	"transformRequest":  codeOnly("transformRequest"),
	"transformResponse": codeOnly("transformResponse"),
	"debug":             "did you mean log.level: debug?",

	// Options that moved between sections.
	"cookies.options":                       "next-api-layer's cookies.options are keys of cookies: secure, sameSite, path, maxAge",
	"cookies.refreshOptions":                movedTo("cookies.refreshMaxAge"),
	"access.guestFallbackOnUserRefreshFail": movedTo("refresh.guestFallback"),
	"validate.secret":                       movedTo("validate.local.secret"),
	"validate.algorithms":                   movedTo("validate.local.algorithms"),
	"validate.verify":                       codeOnly("validate.verify"),
	"refresh.store":                         "did you mean store.driver: redis?",
	"refresh.storeTtlMs":                    movedTo("refresh.successorTTL"),
	"refresh.classifyFail":                  "did you mean refresh.reuseStatusCodes, refresh.reuseCodes and backend.mapping.errorCode?",
	"rateLimit.windowMs":                    movedTo("rateLimit.window"),
	"rateLimit.ipHeaders":                   movedTo("clientIP.headers"),
	"rateLimit.keyFn":                       movedTo("rateLimit.by"),
	"audit.logger":                          movedTo("audit.output"),
}

func movedTo(path string) string { return "did you mean " + path + "?" }

func codeOnly(name string) string {
	return "next-api-layer's " + name + " is code: YAML has none, see docs/migrating-from-next-api-layer.md"
}
