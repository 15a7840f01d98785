// Package route cleans request paths and matches them against the path lists
// and globs of the configuration (docs/configuration.md: "Route lists" and
// "Globs").
//
// Every decision of the gateway (API request or page, protected route,
// excluded path, public endpoint, rate-limit rule) is taken on the path that
// [Clean] returns, and that same cleaned path is what is forwarded, so the
// gateway and the application behind it always see the same path. Matching is
// segment-aware (/public does not cover /publicity), ignores a trailing slash
// and is case-sensitive, unless the matchers are built by [Options] with
// CaseInsensitive (access.caseInsensitive), for web apps that route in any
// letter case.
//
// Three kinds of matchers are offered:
//
//   - [Under] and [List]: segment-aware prefixes (protectedRoutes,
//     excludedPaths, api.prefix).
//   - [Glob] and [Globs]: patterns where "*" is one path segment and "**" is
//     zero or more whole segments (publicEndpoints, skipRoutes, rules[].path).
//   - [Trim]: the part of a path below a prefix, for globs that are relative
//     to api.prefix.
//
// Matching never uses regular expressions and does not allocate.
package route
