package cookieheader

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

func TestAll(t *testing.T) {
	h := http.Header{"Cookie": {
		` a=1; b = "two" ;;noequals; =empty-name; c=`,
		`a=again`,
	}}
	var got []string
	for name, value := range All(h) {
		got = append(got, name+"|"+value)
	}
	want := []string{"a|1", `b| "two"`, "|empty-name", "c|", "a|again"}
	if !slices.Equal(got, want) {
		t.Errorf("All = %q, want %q", got, want)
	}

	// Stopping early stops the scan.
	n := 0
	for range All(h) {
		n++
		break
	}
	if n != 1 {
		t.Errorf("iterations after break = %d, want 1", n)
	}
	for range All(http.Header{}) {
		t.Error("a request without a Cookie header yields nothing")
	}
}

func TestValue(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"abc.DEF-123_~!#$%&'()*+/:<=>?@[]^`{|}", "abc.DEF-123_~!#$%&'()*+/:<=>?@[]^`{|}", true},
		{`"quoted"`, "quoted", true},
		{`""`, "", true},
		{"", "", true},
		{`"`, "", false},
		{"has space", "", false},
		{"comma,", "", false},
		{`back\slash`, "", false},
		{`in"side`, "", false},
		{"tab\t", "", false},
		{"del\x7f", "", false},
		{"é", "", false},
	}
	for _, tt := range tests {
		got, ok := Value(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Value(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// Every cookie the scan accepts (a valid name, a value of RFC 6265
// cookie-octets) is one net/http finds too, with the same value. net/http
// is laxer about values (it allows spaces and commas); the gateway's tokens
// never contain them.
func FuzzAllAgreesWithNetHTTP(f *testing.F) {
	f.Add(`a=1; b="2"; c=3`)
	f.Add(` x = y ;z=`)
	f.Add(`a=1;a=2; a="3"`)
	f.Fuzz(func(t *testing.T, line string) {
		if strings.Count(line, ";") >= 3000 {
			return // net/http reads no cookie at all past 3000 (GODEBUG httpcookiemaxnum)
		}
		h := http.Header{"Cookie": {line}}
		theirs := map[string][]string{}
		for _, c := range (&http.Request{Header: h}).Cookies() {
			theirs[c.Name] = append(theirs[c.Name], c.Value)
		}
		for name, value := range All(h) {
			v, ok := Value(value)
			if !ok || !httpguts.ValidHeaderFieldName(name) {
				continue
			}
			if !slices.Contains(theirs[name], v) {
				t.Errorf("the scan found %s=%q in %q; net/http found %q", name, v, line, theirs[name])
			}
		}
	})
}

// BenchmarkValue checks a JWT-sized cookie value, as every request does.
func BenchmarkValue(b *testing.B) {
	v := strings.Repeat("eyJhbGciOiJIUzI1NiJ9.", 25)
	for b.Loop() {
		if _, ok := Value(v); !ok {
			b.Fatal("not a cookie value")
		}
	}
}
