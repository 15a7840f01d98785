package route

import "strings"

// Clean returns the canonical form of escapedPath, the escaped path of a
// request (r.URL.EscapedPath()), and reports whether it is acceptable.
//
// The result is still an escaped path (url.PathUnescape gives its decoded
// form). Clean:
//
//   - decodes the escapes of unreserved characters (ALPHA DIGIT - . _ ~) and
//     of "/" (%2F), so /%61dmin is /admin and /a%2Fb is /a/b;
//   - keeps every other escape, with its hex digits in upper case (%3a
//     becomes %3A), and escapes the bytes that may not appear raw in a path
//     (space, '"', '<', '?', '#', non-ASCII bytes...);
//   - resolves "." and ".." segments and collapses empty segments ("//");
//   - keeps a trailing slash (a final "." or ".." segment leaves one too, as
//     in RFC 3986: /a/b/.. is /a/).
//
// ok is false, and the path must be refused (400), when it is not absolute,
// when a ".." would climb above the root (/../x, /a/../../x, /%2e%2e/x), when
// it holds an invalid escape (%zz, a lone %), or when it holds a control byte,
// raw or escaped (%00 to %1F, %7F): many backends cut a path at a NUL or
// split it at a line break, so such a path could mean one thing here and
// another there.
//
// Escapes are decoded once, as the HTTP server of the application decodes
// them once: %252e stays %252e (its decoded form is the literal three
// characters %2e, a legitimate file name), it is never turned into "." by a
// second decoding. Because the cleaned path is the one forwarded, an
// application that itself decodes a single time sees exactly the segments
// that were matched here. An application that decodes twice would be unsafe
// behind any proxy and is not supported.
//
// A backslash (raw, or %5C) and ';' are ordinary characters here, as RFC
// 3986 says, but some Windows and Java servers treat "\" as a separator or
// strip ";parameters" from segments, so they would resolve
// /public/..%5Cadmin or /public/..;/admin to /admin. A path with a dot
// segment hidden that way is refused (ok is false): it could mean one thing
// here and another there.
//
// Clean does not allocate when escapedPath is already clean.
func Clean(escapedPath string) (string, bool) {
	c, ok := escapedPath, true
	if !isClean(escapedPath) {
		c, ok = cleanSlow(escapedPath)
	}
	if ok && hiddenDots(c) {
		return "", false
	}
	return c, ok
}

// hiddenDots reports whether a cleaned path has a segment that a server
// splitting on backslashes or cutting ";parameters" would read as "." or
// "..".
func hiddenDots(p string) bool {
	if strings.IndexByte(p, ';') < 0 && strings.IndexByte(p, '\\') < 0 && !strings.Contains(p, "%5C") {
		return false
	}
	for seg := range strings.SplitSeq(p, "/") {
		seg = strings.ReplaceAll(seg, "%5C", "\\")
		for part := range strings.SplitSeq(seg, "\\") {
			part, _, _ = strings.Cut(part, ";")
			if part == "." || part == ".." {
				return true
			}
		}
	}
	return false
}

// Byte classes.
const (
	clsOther      = iota // must be escaped
	clsUnreserved        // ALPHA DIGIT - . _ ~ : kept raw, escapes decoded
	clsRaw               // sub-delims : @ [ ] : kept raw, escapes kept
	clsControl           // C0 controls and DEL: refused
)

var class = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c < 0x20 || c == 0x7f:
			t[c] = clsControl
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
			t[c] = clsUnreserved
		default:
			switch c {
			case '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@', '[', ']':
				t[c] = clsRaw
			}
		}
	}
	return t
}()

const upperHex = "0123456789ABCDEF"

// unhex returns the value of an upper- or lower-case hex digit, or -1.
func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// isClean reports whether Clean would return s unchanged.
func isClean(s string) bool {
	if len(s) == 0 || s[0] != '/' {
		return false
	}
	segStart := 1
	for i := 1; i <= len(s); i++ {
		if i == len(s) || s[i] == '/' {
			seg := s[segStart:i]
			switch {
			case seg == "." || seg == "..":
				return false
			case seg == "" && i < len(s): // "//"; an empty last segment is the trailing slash
				return false
			}
			segStart = i + 1
			continue
		}
		switch c := s[i]; class[c] {
		case clsUnreserved, clsRaw:
		case clsOther:
			if c != '%' || i+2 >= len(s) {
				return false
			}
			h, l := s[i+1], s[i+2]
			if !isUpperHex(h) || !isUpperHex(l) {
				return false
			}
			v := byte(unhex(h)<<4 | unhex(l))
			if class[v] == clsUnreserved || class[v] == clsControl || v == '/' {
				return false
			}
			i += 2
		default:
			return false
		}
	}
	return true
}

func isUpperHex(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'F'
}

func cleanSlow(s string) (string, bool) {
	if len(s) == 0 || s[0] != '/' {
		return "", false
	}
	// out holds the resolved segments, each preceded by '/', without a
	// trailing slash; segStart is where the current segment's bytes begin.
	out := make([]byte, 0, len(s)+8)
	out = append(out, '/')
	segStart := len(out)
	trailing := false

	// endSegment resolves the segment out[segStart:]; it returns false when
	// a ".." climbs above the root.
	endSegment := func() bool {
		seg := out[segStart:]
		switch {
		case len(seg) == 0 || string(seg) == ".":
			out = out[:segStart-1]
			trailing = true
		case string(seg) == "..":
			out = out[:segStart-1]
			if len(out) == 0 {
				return false
			}
			for len(out) > 0 && out[len(out)-1] != '/' {
				out = out[:len(out)-1]
			}
			out = out[:len(out)-1]
			trailing = true
		default:
			trailing = false
		}
		return true
	}

	for i := 1; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) {
				return "", false
			}
			h, l := unhex(s[i+1]), unhex(s[i+2])
			if h < 0 || l < 0 {
				return "", false
			}
			i += 2
			c = byte(h<<4 | l)
			switch {
			case c == '/':
				// Decoded below as a separator.
			case class[c] == clsUnreserved:
				out = append(out, c)
				continue
			case class[c] == clsControl:
				return "", false
			default:
				out = append(out, '%', upperHex[c>>4], upperHex[c&15])
				continue
			}
		}
		switch class[c] {
		case clsControl:
			return "", false
		case clsUnreserved, clsRaw:
			out = append(out, c)
		default:
			if c != '/' {
				out = append(out, '%', upperHex[c>>4], upperHex[c&15])
				continue
			}
			if !endSegment() {
				return "", false
			}
			out = append(out, '/')
			segStart = len(out)
		}
	}
	if !endSegment() {
		return "", false
	}
	if len(out) == 0 {
		return "/", true
	}
	if trailing {
		out = append(out, '/')
	}
	return string(out), true
}
