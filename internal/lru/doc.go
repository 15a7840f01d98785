// Package lru is the one in-memory, size-bounded, least-recently-used map
// of the module: the in-memory stores of package session (validation
// cache, near cache, failures, revalidations, successors) and the memory
// store of package ratelimit (which also holds the guest-mint cap) are
// each a [Map].
//
// Entries expire: each carries the time until which it lives, and a map is
// given the current time by its caller (the owner's injected clock), so it
// reads no clock of its own and runs no goroutine. Expired entries are
// removed when looked up, by [Map.Sweep], and a few at a time by
// [Map.Update].
package lru
