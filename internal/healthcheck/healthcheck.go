package healthcheck

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/apilayer/apilayer/config"
)

// DefaultURL is the health endpoint of a gateway with the default listen
// (":8080") and health.path, seen from the same host.
const DefaultURL = "http://127.0.0.1" + config.DefaultListen + config.DefaultHealthPath

// DefaultTimeout bounds a check when the caller gives none.
const DefaultTimeout = 5 * time.Second

// URLFor returns the health endpoint of the gateway that c configures, as
// reached from its own host: the listen port on loopback when listen has
// no host or a wildcard one, else on listen's host; https when tls is set.
// c must be resolved (defaults applied).
func URLFor(c *config.Config) (string, error) {
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return "", fmt.Errorf("healthcheck: listen %q: %w", c.Listen, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::", "[::]":
		host = "::1"
	}
	scheme := "http"
	if c.TLS.CertFile != "" && c.TLS.KeyFile != "" {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port), Path: c.Health.Path}
	return u.String(), nil
}

// Options configures Check.
type Options struct {
	// Timeout bounds the whole check (connect, headers, body). If zero,
	// DefaultTimeout is used.
	Timeout time.Duration
	// SkipVerify accepts any TLS certificate. The gateway's certificate
	// names its public host, not the loopback address a check derived from
	// the config (URLFor) dials, so that check cannot verify it; the check
	// sends nothing secret and only reads a status.
	SkipVerify bool
}

// Result is what the health endpoint answered.
type Result struct {
	Status int
	// Body is the start of the answer (at most 512 bytes), on one line.
	Body string
}

// Check GETs rawURL once and returns the answer. The error is non-nil when
// the endpoint could not be reached in time or did not answer 200 (the
// gateway's health endpoint answers 200 while it serves, even with the
// backend down: its body then says "degraded"). Redirects are not followed.
func Check(ctx context.Context, rawURL string, o Options) (Result, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Result{}, fmt.Errorf("healthcheck: want an http(s) URL such as %s (got %q)", DefaultURL, rawURL)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	tr := &http.Transport{
		Proxy:             nil, // a check of this host never goes through a proxy
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: o.SkipVerify}, // see Options.SkipVerify
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Result{}, fmt.Errorf("healthcheck: %w", err)
	}
	res, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return Result{}, fmt.Errorf("healthcheck: GET %s: no answer within %s", u, o.Timeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Result{}, fmt.Errorf("healthcheck: GET %s: %w", u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	r := Result{Status: res.StatusCode, Body: oneLine(string(b))}
	if res.StatusCode != http.StatusOK {
		msg := res.Status
		if r.Body != "" {
			msg += ": " + r.Body
		}
		return r, fmt.Errorf("healthcheck: GET %s: %s", u, msg)
	}
	return r, nil
}

// oneLine folds s onto one line of printable text.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
