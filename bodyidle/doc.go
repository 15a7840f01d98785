// Package bodyidle ends request uploads that stall (server.bodyIdleTimeout
// and server.readTimeout in docs/configuration.md).
//
// A client that opens a request with a body and then sends nothing more
// holds a connection, a goroutine and, behind a proxy, an upstream request
// for as long as nothing times out. http.Server.ReadTimeout bounds the
// whole request, which also cuts slow but honest uploads; [Middleware]
// bounds instead each wait for body data: before every read of the body it
// moves the connection's read deadline (http.ResponseController.
// SetReadDeadline) to the timeout from now, so a client that keeps sending,
// however slowly, is never cut, and one that stops for the timeout is.
//
// An upload ended that way is answered 408
// {"success":false,"message":"Request timeout."} when no response has
// started (the answer the handler was about to give is replaced, its
// cookies kept), and the connection is closed after it; when the response
// had already started, the connection is closed after it.
//
// Requests without a body pass through untouched, at no cost.
package bodyidle
