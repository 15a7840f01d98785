package config

// Secure says when cookies get the Secure attribute: "auto" (when the
// request came over HTTPS), "true" or "false". In YAML a bool is accepted.
type Secure string

// The values of Secure.
const (
	SecureAuto   Secure = "auto"
	SecureAlways Secure = "true"
	SecureNever  Secure = "false"
)
