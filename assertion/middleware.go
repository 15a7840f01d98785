package assertion

import (
	"context"
	"errors"
	"net/http"
)

// ErrMissing is the error of a request without an assertion.
var ErrMissing = errors.New("assertion: no assertion in the request")

// Middleware verifies the assertion of each request and puts its claims
// in the request's context ([FromContext]). Set Verifier; the other
// fields are optional.
type Middleware struct {
	// Verifier checks the assertions. Required.
	Verifier *Verifier

	// Header is the request header that carries the assertion
	// (identity.header). Empty means DefaultHeader.
	Header string

	// Optional lets requests without a valid assertion through as
	// anonymous (FromContext reports false), for apps whose pages also
	// serve visitors. When false, they are refused with ErrorHandler.
	// Either way, a request whose assertion cannot be checked because
	// the key set is unavailable goes to ErrorHandler: a signed-in user
	// silently served as anonymous would be a confusing failure.
	Optional bool

	// ErrorHandler answers refused requests; err wraps ErrMissing,
	// ErrInvalid or ErrUnavailable. If nil, DefaultErrorHandler.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// Check returns the claims of r's assertion. A request with no assertion
// gets ErrMissing; with several, or an invalid one, an error wrapping
// ErrInvalid; see [Verifier.Verify] for the others.
func (m *Middleware) Check(r *http.Request) (*Claims, error) {
	name := m.Header
	if name == "" {
		name = DefaultHeader
	}
	vals := r.Header.Values(name)
	switch {
	case len(vals) == 0 || (len(vals) == 1 && vals[0] == ""):
		return nil, ErrMissing
	case len(vals) > 1:
		return nil, invalid("%d %s headers", len(vals), name)
	}
	return m.Verifier.Verify(r.Context(), vals[0])
}

// Handler returns next behind the check: a request with a valid
// assertion reaches next with its claims in the context; others as
// Optional says.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := m.Check(r)
		switch {
		case err == nil:
			r = r.WithContext(NewContext(r.Context(), c))
		case m.Optional && !errors.Is(err, ErrUnavailable) && r.Context().Err() == nil:
		default:
			h := m.ErrorHandler
			if h == nil {
				h = DefaultErrorHandler
			}
			h(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// DefaultErrorHandler answers 503 when the key set is unavailable, else
// 401, as plain text that says nothing about why: the reason is in err,
// for the app's logs.
func DefaultErrorHandler(w http.ResponseWriter, _ *http.Request, err error) {
	if errors.Is(err, ErrUnavailable) {
		http.Error(w, "Identity cannot be verified right now.", http.StatusServiceUnavailable)
		return
	}
	http.Error(w, "Unauthorized.", http.StatusUnauthorized)
}

// ctxKey is the context key of the claims.
type ctxKey struct{}

// NewContext returns a copy of ctx that carries c, as Middleware does
// (useful in the app's tests).
func NewContext(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// FromContext returns the claims Middleware verified for the request of
// ctx, and false for an anonymous request.
func FromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(ctxKey{}).(*Claims)
	return c, ok && c != nil
}
