// Package healthcheck is "apilayer healthcheck": one GET of the gateway's
// health endpoint (health.path) for a container's health check, with a
// bounded time.
package healthcheck
