package initcmd

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/text/language"
)

// The defaults of the questions (what --yes takes).
const (
	DefaultBackendEnv   = "API_BASE_URL"
	DefaultBackendURL   = "http://127.0.0.1:8000/api/"
	DefaultUpstreamURL  = "http://127.0.0.1:3000"
	DefaultGuestUserEnv = "APILAYER_GUEST_USERNAME"
	DefaultGuestPassEnv = "APILAYER_GUEST_PASSWORD"
)

// Answers are the answers to apilayer init's questions.
type Answers struct {
	// Migrating says the app comes from next-api-layer: the next-api-layer
	// preset is then the default, and the summary points to the migration
	// guide.
	Migrating bool
	// Framework is a Preset key.
	Framework string
	// MethodSpoofing is the api.methodSpoofing strategy, "body" or
	// "header"; empty takes the preset's (none for next-api-layer, other,
	// express, go, django and dotnet).
	MethodSpoofing string
	// BackendURL is the JWT backend's base URL. Empty writes
	// ${API_BASE_URL:-http://127.0.0.1:8000/api/}, read from the
	// environment when the gateway starts.
	BackendURL string
	// UpstreamURL is the web app the pages go to.
	UpstreamURL string
	// I18n turns on locale handling with Locales and DefaultLocale (one of
	// Locales).
	I18n          bool
	Locales       []string
	DefaultLocale string
	// Guest turns on guest tokens; the credentials are read from the
	// environment variables GuestUserEnv and GuestPassEnv when the gateway
	// starts, and never written into the file.
	Guest        bool
	GuestUserEnv string
	GuestPassEnv string
	// ProtectedRoutes need a signed-in user; AuthRoutes (login, register)
	// send a signed-in user home.
	ProtectedRoutes []string
	AuthRoutes      []string
}

// DefaultAnswers returns the answers "apilayer init --yes" takes.
func DefaultAnswers() Answers {
	return Answers{
		Framework:    "other",
		UpstreamURL:  DefaultUpstreamURL,
		GuestUserEnv: DefaultGuestUserEnv,
		GuestPassEnv: DefaultGuestPassEnv,
		AuthRoutes:   []string{"/login", "/register"},
	}
}

// Check reports every problem of a, at once.
func (a Answers) Check() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if _, ok := PresetByKey(a.Framework); !ok {
		add(fmt.Errorf("initcmd: unknown framework %q", a.Framework))
	}
	if a.MethodSpoofing != "" && a.MethodSpoofing != "body" && a.MethodSpoofing != "header" {
		add(fmt.Errorf("initcmd: method spoofing must be body or header (got %q)", a.MethodSpoofing))
	}
	if a.BackendURL != "" {
		add(checkURL(a.BackendURL))
	}
	add(checkURL(a.UpstreamURL))
	if a.I18n {
		if len(a.Locales) == 0 {
			add(errors.New("initcmd: i18n needs at least one locale"))
		}
		for _, l := range a.Locales {
			add(checkLocale(l))
		}
		if !slices.Contains(a.Locales, a.DefaultLocale) {
			add(fmt.Errorf("initcmd: the default locale %q must be one of the locales %v", a.DefaultLocale, a.Locales))
		}
	}
	if a.Guest {
		add(checkEnvName(a.GuestUserEnv))
		add(checkEnvName(a.GuestPassEnv))
	}
	for _, r := range slices.Concat(a.ProtectedRoutes, a.AuthRoutes) {
		add(checkRoute(r))
	}
	return errors.Join(errs...)
}

// checkURL accepts an absolute http(s) URL without query or fragment.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("initcmd: %q is not an http or https URL such as http://127.0.0.1:8000/api/", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || u.User != nil {
		return fmt.Errorf("initcmd: %q must not have a query, a fragment or a password", s)
	}
	return nil
}

// checkLocale accepts a language tag such as en or pt-BR.
func checkLocale(l string) error {
	if _, err := language.Parse(l); err != nil || strings.ContainsAny(l, "/ ") {
		return fmt.Errorf("initcmd: %q is not a language tag such as en or pt-BR", l)
	}
	return nil
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkEnvName accepts an environment variable name.
func checkEnvName(n string) error {
	if !envName.MatchString(n) {
		return fmt.Errorf("initcmd: %q is not an environment variable name such as %s", n, DefaultGuestPassEnv)
	}
	return nil
}

// checkRoute accepts a path such as /dashboard (the rule of config's
// access lists).
func checkRoute(r string) error {
	if !strings.HasPrefix(r, "/") || strings.ContainsAny(r, "?# \t\r\n") {
		return fmt.Errorf("initcmd: %q is not a path starting with / such as /dashboard", r)
	}
	return nil
}

// splitList reads a comma-separated answer: items trimmed, empty ones
// dropped, duplicates removed.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item != "" && !slices.Contains(out, item) {
			out = append(out, item)
		}
	}
	return out
}
