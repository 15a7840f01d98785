// Package sanitize removes or neutralises HTML in the string values of JSON
// documents, to keep stored cross-site scripting out of the backend.
//
// It backs the API proxy's api.sanitize option and the server-side API
// client. A [Sanitizer] is built once from [Options] with [New] and is safe
// for concurrent use.
//
// # Modes
//
//   - "strip" (the default) removes all markup with bluemonday's strict
//     policy (script and style content included) and returns plain text: the
//     entities the HTML parser needed are decoded again, so "5 < 10",
//     "Tom & Jerry" and "https://example.com/a?b=1&c=2" come out as they went
//     in. Any "<" that would open a tag, an end tag, a comment or a
//     declaration (a "<" followed by a letter, "/", "!" or "?") is kept as
//     "&lt;", so decoding can never re-create markup: a user who typed
//     "&lt;script&gt;" gets "&lt;script>" back. Strings without "<" or "&"
//     are returned unchanged; in strings with either, entities are decoded
//     ("&amp;" becomes "&") and CR LF line breaks become LF, as the HTML
//     parser sees them. As in a browser, an unfinished tag at the end of a
//     string ("a <b") is dropped.
//   - "escape" removes nothing: & < > " and ' become &amp; &lt; &gt; &quot;
//     and &#39;.
//   - "allowList" returns HTML that keeps only Options.AllowedTags, with no
//     attributes except href on a (http, https, mailto), src on img (http,
//     https), alt on img and title anywhere; relative URLs are dropped too.
//     Text is HTML-escaped; tags are not balanced. With no AllowedTags it
//     behaves as "escape".
//
// Every string goes through the mode: unlike the TypeScript library it
// replaces, nothing is exempted for looking like a URL, so
// `https://x.com/"><script>alert(1)</script>` is sanitized like any text.
//
// # What is sanitized
//
// [Sanitizer.Sanitize] rewrites only the string values of a JSON document;
// keys, numbers, booleans, null, whitespace and key order are copied byte for
// byte, and a string that the mode leaves unchanged keeps its original
// encoding. Options.SkipFields exempts values by path, matched on whole
// segments from the end of the path; array indices are not segments.
// Options.SkipEndpoints exempts whole endpoints by glob.
package sanitize
