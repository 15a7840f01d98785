package config

import (
	"net/url"
	"reflect"
	"strings"
)

// RedactedText is what Config.Redacted puts in place of a secret.
const RedactedText = "<redacted>"

// Redacted returns a deep copy of c with every secret replaced by
// "<redacted>": csrf.secret, csrf.previousSecrets, validate.local.secret,
// audit.webhookSecret, store.peerSecret, every value of guest.credentials,
// and the userinfo password (or a lone user name, which is often a token)
// of every URL. Unset secrets stay empty.
func (c *Config) Redacted() *Config {
	r := c.clone()
	hide := func(p *string) {
		if *p != "" {
			*p = RedactedText
		}
	}
	hide(&r.CSRF.Secret)
	for i := range r.CSRF.PreviousSecrets {
		hide(&r.CSRF.PreviousSecrets[i])
	}
	hide(&r.Validation.Local.Secret)
	hide(&r.Audit.WebhookSecret)
	hide(&r.Store.PeerSecret)
	for k := range r.Guest.Credentials {
		r.Guest.Credentials[k] = RedactedText
	}
	for _, p := range []*string{
		&r.Backend.URL, &r.Upstream.URL, &r.Identity.Audience, &r.Validation.Local.JWKSURL, &r.Audit.Output, &r.Store.Redis.URL, &r.Tracing.Endpoint,
	} {
		*p = redactURL(*p)
	}
	r.Audit.Output = redactWebhookPath(r.Audit.Output)
	for _, list := range [][]string{r.CORS.AllowedOrigins, r.CSRF.TrustedOrigins, r.Store.Peers} {
		for i := range list {
			list[i] = redactURL(list[i])
		}
	}
	return r
}

// redactURL hides the userinfo password of a URL, or the user name when
// there is no password. A string that does not parse but holds an @ loses
// everything before it.
func redactURL(s string) string {
	s = redactQueryPasswords(s)
	if !strings.Contains(s, "@") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		at := strings.LastIndex(s, "@")
		if i := strings.Index(s, "://"); i >= 0 && i < at {
			return s[:i+3] + RedactedText + s[at:]
		}
		return RedactedText
	}
	if u.User == nil {
		return s
	}
	const marker = "REDACTEDPASSWORDMARKER"
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), marker)
	} else {
		u.User = url.User(marker)
	}
	return strings.Replace(u.String(), marker, RedactedText, 1)
}

// redactQueryPasswords hides the values of the query parameters password
// and sentinel_password (a Sentinel store.redis.url carries Redis's own
// password there), in any letter case, keeping the rest as written.
func redactQueryPasswords(s string) string {
	i := strings.IndexByte(s, '?')
	if i < 0 {
		return s
	}
	query, frag, hasFrag := strings.Cut(s[i+1:], "#")
	parts := strings.Split(query, "&")
	changed := false
	for j, p := range parts {
		k, _, ok := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if ok && (strings.EqualFold(name, "password") || strings.EqualFold(name, "sentinel_password")) {
			parts[j], changed = k+"="+RedactedText, true
		}
	}
	if !changed {
		return s
	}
	out := s[:i+1] + strings.Join(parts, "&")
	if hasFrag {
		out += "#" + frag
	}
	return out
}

// redactWebhookPath hides the path and query of an http(s) audit.output:
// Slack- and Discord-style webhook URLs carry their secret there.
func redactWebhookPath(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || (!strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https")) {
		return s
	}
	j := strings.IndexAny(rest, "/?#")
	if j < 0 || rest[j:] == "/" {
		return s
	}
	return scheme + "://" + rest[:j] + "/" + RedactedText
}

// clone returns a deep copy of c (lists, maps and pointers included).
func (c *Config) clone() *Config {
	cp := deepCopy(reflect.ValueOf(c).Elem()).Interface().(Config)
	return &cp
}

// deepCopy copies v and everything it points to. Unexported fields (only
// Config.src, which is never changed) are copied shallowly.
func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(deepCopy(v.Elem()))
		return p
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			s.Index(i).Set(deepCopy(v.Index(i)))
		}
		return s
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		m := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			m.SetMapIndex(it.Key(), deepCopy(it.Value()))
		}
		return m
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		i := reflect.New(v.Type()).Elem()
		i.Set(deepCopy(v.Elem()))
		return i
	case reflect.Struct:
		s := reflect.New(v.Type()).Elem()
		s.Set(v)
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				s.Field(i).Set(deepCopy(v.Field(i)))
			}
		}
		return s
	}
	return v
}
