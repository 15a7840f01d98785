package proxy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strconv"
	"testing"
)

// apiRandom returns n deterministic pseudo-random bytes.
func apiRandom(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{1}).Read(b)
	return b
}

func apiHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// apiHashBackend answers an upload with the SHA-256 of its body and a
// GET /v1/download with download.
func apiHashBackend(download []byte) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/upload", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Bytes", strconv.FormatInt(n, 10))
		io.WriteString(w, hex.EncodeToString(h.Sum(nil)))
	})
	mux.HandleFunc("GET /v1/download", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(download)
	})
	return mux
}

func TestAPIStreamsBodies(t *testing.T) {
	const size = 5 << 20
	data := apiRandom(size)
	gw, _ := newAPITest(t, apiHashBackend(data), func(o *APIOptions) { o.MaxBodySize = 2 * size })
	tests := []struct {
		name string
		body func() io.Reader
	}{
		{"upload with length", func() io.Reader { return bytes.NewReader(data) }},
		{"upload chunked", func() io.Reader { return struct{ io.Reader }{bytes.NewReader(data)} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := apiRequest(t, "POST", gw.URL+"/api/upload", tt.body())
			req.Header.Set("Content-Type", "application/octet-stream")
			res, body := apiDo(t, req)
			if res.StatusCode != http.StatusOK || string(body) != apiHash(data) {
				t.Fatalf("backend got %s bytes with hash %s, want %d with %s", res.Header.Get("X-Bytes"), body, size, apiHash(data))
			}
		})
	}
	t.Run("download", func(t *testing.T) {
		res, body := apiDo(t, apiRequest(t, "GET", gw.URL+"/api/download", nil))
		if res.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
			t.Fatalf("got %d bytes (status %d), want the backend's %d", len(body), res.StatusCode, size)
		}
	})
}

// TestAPIStreamingMemory shows that the gateway does not hold bodies in
// memory: 24 MB go up and down, and the whole process (client, gateway
// and backend) allocates a small fraction of that.
func TestAPIStreamingMemory(t *testing.T) {
	const size = 24 << 20
	gw, _ := newAPITest(t, apiHashBackend(nil), func(o *APIOptions) { o.MaxBodySize = 2 * size })
	chunk := apiRandom(32 << 10)
	want := sha256.New()
	for range size / len(chunk) {
		want.Write(chunk)
	}
	wantSum := hex.EncodeToString(want.Sum(nil))

	measure := func(t *testing.T, f func()) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}

	t.Run("upload", func(t *testing.T) {
		alloc := measure(t, func() {
			pr, pw := io.Pipe()
			done := make(chan struct{})
			go func() {
				defer close(done)
				for range size / len(chunk) {
					if _, err := pw.Write(chunk); err != nil {
						return
					}
				}
				pw.Close()
			}()
			req := apiRequest(t, "POST", gw.URL+"/api/upload", pr)
			res, body := apiDo(t, req)
			pr.Close()
			<-done
			if res.StatusCode != http.StatusOK || string(body) != wantSum {
				t.Fatalf("backend got %s bytes (status %d), want %d intact", res.Header.Get("X-Bytes"), res.StatusCode, size)
			}
		})
		if alloc > size/8 {
			t.Fatalf("proxying %d bytes allocated %d bytes: the body is buffered", size, alloc)
		}
		t.Logf("upload of %d MB allocated %d KB", size>>20, alloc>>10)
	})
	t.Run("download", func(t *testing.T) {
		backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for range size / len(chunk) {
				w.Write(chunk)
			}
		})
		gw, _ := newAPITest(t, backend, nil)
		alloc := measure(t, func() {
			res, err := http.Get(gw.URL + "/api/big")
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			h := sha256.New()
			buf := make([]byte, 32<<10)
			if _, err := io.CopyBuffer(h, res.Body, buf); err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(h.Sum(nil)) != wantSum {
				t.Fatal("downloaded body differs")
			}
		})
		if alloc > size/8 {
			t.Fatalf("proxying %d bytes allocated %d bytes: the body is buffered", size, alloc)
		}
		t.Logf("download of %d MB allocated %d KB", size>>20, alloc>>10)
	})
}
