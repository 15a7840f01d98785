// Package testkit holds the test helpers of apilayer's tests and
// benchmarks: a real demo JWT backend on a loopback httptest server with
// fault injection and per-endpoint counters (Backend), a recording web app
// (Upstream) and a settable clock (Clock).
//
// Every server is an httptest.NewServer on 127.0.0.1 and is closed by
// t.Cleanup; a request hung by the Hang fault is released when its context
// ends or at cleanup, so no handler outlives the test.
package testkit
