package route

import (
	"net/url"
	"path"
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	const bad = "\x00bad" // marks a row where ok must be false
	tests := []struct {
		name string
		in   string
		want string
	}{
		// Dot segments hidden from servers that split on "\" or cut ";params".
		{"dotdot semicolon", "/public/..;/admin", bad},
		{"dotdot semicolon param", "/public/..;x=1/admin", bad},
		{"dot semicolon", "/public/.;/admin", bad},
		{"dotdot backslash escaped", "/public/..%5Cadmin", bad},
		{"dotdot backslash escaped lower", "/public/..%5cadmin", bad},
		{"dotdot backslash raw", "/public/..\\admin", bad},
		{"backslash dotdot inside", "/public%5C..%5Cadmin", bad},
		{"semicolon without dots kept", "/a;b/c", "/a;b/c"},
		{"backslash without dots kept", "/a%5Cb", "/a%5Cb"},
		{"dots in a name kept", "/a..;b/c", "/a..;b/c"},

		// Already clean.
		{"root", "/", "/"},
		{"simple", "/admin", "/admin"},
		{"nested", "/admin/users/1", "/admin/users/1"},
		{"trailing slash kept", "/admin/", "/admin/"},
		{"sub-delims kept raw", "/a/b;c=d,e!$&'()*+@:", "/a/b;c=d,e!$&'()*+@:"},
		{"brackets kept raw", "/a[1]", "/a[1]"},
		{"upper escape kept", "/a%20b", "/a%20b"},
		{"case sensitive", "/Dashboard", "/Dashboard"},

		// Decoding of unreserved characters and of . and /.
		{"escaped letter", "/%61dmin", "/admin"},
		{"escaped upper letter", "/%41dmin", "/Admin"},
		{"escaped digit tilde", "/%31%7e", "/1~"},
		{"escaped dash underscore", "/%2d%5f", "/-_"},
		{"lower hex normalised", "/a%3ab", "/a%3Ab"},
		{"lower hex of other byte", "/caf%c3%a9", "/caf%C3%A9"},
		{"escaped slash is a separator", "/a/%2f/b", "/a/b"},
		{"escaped upper slash", "/a%2Fb", "/a/b"},
		{"escaped dot in name", "/v1%2e0", "/v1.0"},
		{"percent sign stays escaped", "/100%25", "/100%25"},
		{"double encoding decoded once", "/%252e%252e/admin", "/%252e%252e/admin"},
		{"double encoded slash stays", "/a%252fb", "/a%252fb"},
		{"escaped question mark kept", "/a%3Fb", "/a%3Fb"},

		// Bytes that may not appear raw are escaped.
		{"raw space escaped", "/a b", "/a%20b"},
		{"raw quote escaped", "/a\"b", "/a%22b"},
		{"raw question mark escaped", "/a?b", "/a%3Fb"},
		{"raw hash escaped", "/a#b", "/a%23b"},
		{"raw non-ascii escaped", "/é", "/%C3%A9"},
		{"raw backslash escaped", "/a\\b", "/a%5Cb"},

		// Dot segments and empty segments.
		{"double slash at start", "//admin", "/admin"},
		{"double slash inside", "/a//b", "/a/b"},
		{"many slashes", "///a///b///", "/a/b/"},
		{"only slashes", "///", "/"},
		{"dot segment", "/admin/./x", "/admin/x"},
		{"dot at end", "/admin/.", "/admin/"},
		{"dot at root", "/.", "/"},
		{"dot slash at root", "/./", "/"},
		{"dotdot back to root", "/Dashboard/..", "/"},
		{"dotdot inside", "/a/b/../c", "/a/c"},
		{"dotdot at end", "/a/b/..", "/a/"},
		{"dotdot trailing slash", "/a/b/../", "/a/"},
		{"escaped dotdot inside", "/a/b/%2e%2e/c", "/a/c"},
		{"upper escaped dotdot", "/a/b/%2E%2E/c", "/a/c"},
		{"mixed escaped dotdot", "/a/b/.%2e/c", "/a/c"},
		{"escaped slash then dotdot", "/admin%2f..", "/"},
		{"escaped slash dotdot leaves admin", "/public%2f..%2fadmin", "/admin"},
		{"dotdot with escaped slashes", "/x/y/..%2f..%2fadmin", "/admin"},
		{"three dots is a name", "/a/.../b", "/a/.../b"},
		{"dot prefix is a name", "/.well-known/x", "/.well-known/x"},
		{"dotdot prefix is a name", "/..a/b", "/..a/b"},
		{"dot before escaped slash", "/a/.%2fb", "/a/b"},

		// Refused.
		{"empty", "", bad},
		{"relative", "admin", bad},
		{"escaped leading slash", "%2Fadmin", bad},
		{"dotdot at root", "/..", bad},
		{"dotdot then path", "/../x", bad},
		{"climb above root", "/a/../../x", bad},
		{"escaped climb", "/%2e%2e/x", bad},
		{"escaped climb trailing", "/%2e%2e/", bad},
		{"climb via escaped slashes", "/x/..%2f..%2fadmin", bad},
		{"climb after double slash", "//../admin", bad},
		{"escaped nul", "/a%00b", bad},
		{"escaped newline", "/a%0ab", bad},
		{"escaped del", "/a%7Fb", bad},
		{"raw nul", "/a\x00b", bad},
		{"raw tab", "/a\tb", bad},
		{"raw newline", "/a\nb", bad},
		{"raw del", "/a\x7fb", bad},
		{"invalid escape", "/a%zzb", bad},
		{"half escape", "/a%2", bad},
		{"lone percent at end", "/a%", bad},
		{"escape with one bad digit", "/a%2gb", bad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Clean(tt.in)
			if tt.want == bad {
				if ok {
					t.Fatalf("Clean(%q) = %q, true; want refusal", tt.in, got)
				}
				return
			}
			if !ok || got != tt.want {
				t.Fatalf("Clean(%q) = %q, %v; want %q, true", tt.in, got, ok, tt.want)
			}
			if again, ok := Clean(got); !ok || again != got {
				t.Errorf("Clean(Clean(%q)) = %q, %v; want it unchanged", tt.in, again, ok)
			}
		})
	}
}

// TestCleanFromRequestURL checks Clean on what net/url makes of raw request
// targets, as the gateway will see them.
func TestCleanFromRequestURL(t *testing.T) {
	tests := []struct {
		name   string
		target string
		want   string
		ok     bool
	}{
		{"plain", "/api/news", "/api/news", true},
		{"escaped slash preserved by net/url", "/api%2fnews", "/api/news", true},
		{"traversal by escapes", "/api/%2e%2e/admin", "/admin", true},
		{"escapes root", "/api/../../etc/passwd", "", false},
		{"unicode", "/caf%C3%A9", "/caf%C3%A9", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.ParseRequestURI(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := Clean(u.EscapedPath())
			if ok != tt.ok || got != tt.want {
				t.Fatalf("Clean(%q) = %q, %v; want %q, %v", u.EscapedPath(), got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestCleanDoesNotAllocateWhenClean(t *testing.T) {
	for _, p := range []string{"/", "/api/news/1", "/admin/", "/caf%C3%A9/a%20b"} {
		allocs := testing.AllocsPerRun(100, func() {
			if _, ok := Clean(p); !ok {
				t.Fatal("refused")
			}
		})
		if allocs != 0 {
			t.Errorf("Clean(%q): %v allocations, want 0", p, allocs)
		}
	}
}

// checkCleaned asserts the invariants of a cleaned path.
func checkCleaned(t *testing.T, in, got string) {
	t.Helper()
	if again, ok := Clean(got); !ok || again != got {
		t.Fatalf("Clean(%q) = %q; re-cleaned: %q, %v", in, got, again, ok)
	}
	for _, bad := range []string{"/../", "/./", "//"} {
		if strings.Contains(got, bad) {
			t.Fatalf("Clean(%q) = %q contains %q", in, got, bad)
		}
	}
	if strings.HasSuffix(got, "/..") || strings.HasSuffix(got, "/.") {
		t.Fatalf("Clean(%q) = %q ends with a dot segment", in, got)
	}
	dec, err := url.PathUnescape(got)
	if err != nil {
		t.Fatalf("Clean(%q) = %q does not unescape: %v", in, got, err)
	}
	if !strings.HasPrefix(dec, "/") {
		t.Fatalf("Clean(%q) = %q decodes to %q, not absolute", in, got, dec)
	}
	// The decoded form is a clean path (up to its trailing slash).
	if want := path.Clean(dec); strings.TrimSuffix(dec, "/") != strings.TrimSuffix(want, "/") {
		t.Fatalf("Clean(%q) = %q decodes to %q; path.Clean gives %q", in, got, dec, want)
	}
	for i := 0; i < len(dec); i++ {
		if dec[i] < 0x20 || dec[i] == 0x7f {
			t.Fatalf("Clean(%q) = %q decodes to a control byte", in, got)
		}
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{
		"/", "/a/b/", "//admin", "/admin/./x", "/Dashboard/..", "/%2e%2e/", "/a/%2f/b",
		"/admin%2f..", "/x/..%2f..%2fadmin", "/a%00", "/%252e", "/a b", "/é/%c3%a9", "/.%2E/",
		"/a/b/../../..", "/%", "/%2", "/a;b/..;/c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, ok := Clean(in)
		if !ok {
			return
		}
		checkCleaned(t, in, got)
		if isClean(in) && got != in {
			t.Fatalf("Clean(%q) = %q; a clean path must come back unchanged", in, got)
		}
	})
}
