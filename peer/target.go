package peer

import (
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Target is one entry of store.peers: an instance's base URL, or a DNS
// name whose every address is an instance.
type Target struct {
	// URL is the base URL (scheme://host:port, no trailing slash) of a
	// single instance; empty for a DNS target.
	URL string
	// Name and Port are a DNS target's (dns:///name:port): every address
	// Name resolves to is an instance, http://address:Port.
	Name, Port string
}

// errTarget is the message of every malformed target: config.Validate
// shows it under the key's path.
var errTarget = errors.New("must be a base URL such as http://10.0.0.2:8080 or dns:///gateway.internal:8080")

// ParseTarget parses an entry of store.peers: an http or https URL with a
// host and nothing after it (no user, path, query or fragment), or
// dns:///name:port (three slashes: the system resolver is used).
func ParseTarget(s string) (Target, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Target{}, errTarget
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" ||
			u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
			return Target{}, errTarget
		}
		if p := u.Port(); p != "" && !validPort(p) {
			return Target{}, errTarget
		}
		return Target{URL: u.Scheme + "://" + u.Host}, nil
	case "dns":
		if u.Host != "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
			return Target{}, errTarget
		}
		name, port, err := net.SplitHostPort(strings.TrimPrefix(u.Path, "/"))
		if err != nil || name == "" || strings.ContainsAny(name, "/ ") || !validPort(port) {
			return Target{}, errTarget
		}
		return Target{Name: name, Port: port}, nil
	}
	return Target{}, errTarget
}

func validPort(p string) bool {
	n, err := strconv.ParseUint(p, 10, 16)
	return err == nil && n > 0
}

// String returns the target as store.peers spells it.
func (t Target) String() string {
	if t.URL != "" {
		return t.URL
	}
	return "dns:///" + net.JoinHostPort(t.Name, t.Port)
}
