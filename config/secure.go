package config

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Secure says when cookies get the Secure attribute: "auto" (when the
// request came over HTTPS), "true" or "false". In YAML a bool is accepted.
// The empty Secure means the default, auto.
type Secure string

// The values of Secure.
const (
	SecureAuto   Secure = "auto"
	SecureAlways Secure = "true"
	SecureNever  Secure = "false"
)

// UnmarshalYAML reads auto, true or false, as a string or a YAML bool.
func (s *Secure) UnmarshalYAML(n *yaml.Node) error {
	v, err := secureFromNode(n)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	*s = v
	return nil
}

// MarshalYAML writes auto as a string and true and false as YAML bools.
func (s Secure) MarshalYAML() (any, error) {
	switch s {
	case SecureAlways:
		return true, nil
	case SecureNever:
		return false, nil
	}
	return string(s), nil
}

func secureFromNode(n *yaml.Node) (Secure, error) {
	if n.Kind != yaml.ScalarNode {
		return "", errors.New("expected auto, true or false, got " + describe(n))
	}
	switch v := Secure(strings.ToLower(n.Value)); v {
	case SecureAuto, SecureAlways, SecureNever:
		return v, nil
	}
	return "", fmt.Errorf("expected auto, true or false, got %q", n.Value)
}
