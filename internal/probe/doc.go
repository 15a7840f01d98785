// Package probe is "apilayer check --probe": it calls the backend a config
// names, the way the gateway will, and reports what came back and which
// backend.mapping pointers found something in the answers, so that a
// mapping that does not fit the backend (a wrong init preset) shows before
// users log in. Token values are never written: a matched token shows as
// <redacted>.
package probe
