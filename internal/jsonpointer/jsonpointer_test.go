package jsonpointer

import (
	"bytes"
	"encoding/json"
	"testing"
)

func decode(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	return v, d.Decode(&v)
}

func TestPointer(t *testing.T) {
	doc, err := decode([]byte(`{"a":{"b/c":[10,{"~d":"x"}]},"":"root-empty"}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ptr  string
		want any
		ok   bool
	}{
		{"/a/b~1c/1/~0d", "x", true},
		{"/a/b~1c/0", json.Number("10"), true},
		{"/", "root-empty", true},
		{"/a/b~1c/01", nil, false},
		{"/a/b~1c/2", nil, false},
		{"/a/b~1c/-", nil, false},
		{"/a/missing", nil, false},
		{"/a/b~1c/1/~0d/deeper", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.ptr, func(t *testing.T) {
			p, err := Parse(tt.ptr)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := p.Get(doc)
			if ok != tt.ok || got != tt.want {
				t.Fatalf("get = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestRemoveAndUnder(t *testing.T) {
	doc, _ := decode([]byte(`{"data":{"user":{"id":1,"jwt":"T"},"list":[1,2]}}`))
	user, _ := Parse("/data/user")
	jwt, _ := Parse("/data/user/jwt")
	rel, ok := jwt.Under(user)
	if !ok || len(rel) != 1 || rel[0] != "jwt" {
		t.Fatalf("Under = %v, %v; want [jwt], true", rel, ok)
	}
	if _, ok := user.Under(jwt); ok {
		t.Fatal("a pointer is not under a pointer inside it")
	}
	jwt.Remove(doc)
	if _, ok := jwt.Get(doc); ok {
		t.Fatal("Remove left the member")
	}
	item, _ := Parse("/data/list/0")
	item.Remove(doc)
	if v, ok := item.Get(doc); !ok || v != json.Number("1") {
		t.Fatalf("Remove of an array element changed the array: %v", v)
	}
	for _, bad := range []string{"a", "/a~2", "/a~"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = nil error", bad)
		}
	}
}

func TestFragmentForm(t *testing.T) {
	doc, _ := decode([]byte(`{"id":7,"a b":{"c/d":1}}`))
	for _, tt := range []struct {
		ptr  string
		want any
	}{
		{"#", doc},
		{"#/id", json.Number("7")},
		{"#/a%20b/c~1d", json.Number("1")},
	} {
		p, err := Parse(tt.ptr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.ptr, err)
		}
		got, ok := p.Get(doc)
		if !ok {
			t.Fatalf("Get(%q) found nothing", tt.ptr)
		}
		if m, isMap := tt.want.(map[string]any); isMap {
			if gm, _ := got.(map[string]any); len(gm) != len(m) {
				t.Fatalf("Get(%q) = %v, want the whole document", tt.ptr, got)
			}
			continue
		}
		if got != tt.want {
			t.Fatalf("Get(%q) = %v, want %v", tt.ptr, got, tt.want)
		}
	}
	for _, bad := range []string{"#data", "#/%zz"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = nil error", bad)
		}
	}
}
