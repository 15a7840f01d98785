package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Size is a number of bytes. In YAML it is an integer or a string with a
// unit: 512KiB, 10MiB, 1MB, 1GiB, 1KB (KiB, MiB, GiB, TiB are powers of
// 1024; KB, MB, GB, TB powers of 1000; B is bytes).
type Size int64

// The binary units of Size.
const (
	KiB Size = 1 << 10
	MiB Size = 1 << 20
	GiB Size = 1 << 30
)

var sizeUnits = []struct {
	name string
	mult int64
}{
	// Longest names first, so that "KiB" is not read as "B".
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"b", 1},
}

// ParseSize reads a size written as bytes ("1024") or as an integer with a
// unit ("512KiB", "10MiB", "1MB", "1GiB"). The unit's case does not matter;
// a space may separate the number and the unit.
func ParseSize(s string) (Size, error) {
	n, err := parseSize(s)
	if err != nil {
		return 0, fmt.Errorf("config: %w", err)
	}
	return n, nil
}

func parseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	lower := strings.ToLower(t)
	for _, u := range sizeUnits {
		if strings.HasSuffix(lower, u.name) {
			mult = u.mult
			t = strings.TrimSpace(t[:len(t)-len(u.name)])
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || t == "" || t[0] == '+' {
		return 0, fmt.Errorf("bad size %q (want bytes or an integer with a unit: 512KiB, 10MiB, 1MB, 1GiB)", s)
	}
	if n > math.MaxInt64/mult || n < math.MinInt64/mult {
		return 0, fmt.Errorf("bad size %q: too large", s)
	}
	return Size(n * mult), nil
}

// String writes s with the largest binary unit that divides it exactly
// ("10MiB"), else as bytes ("1000").
func (s Size) String() string {
	switch {
	case s == 0:
		return "0"
	case s%GiB == 0:
		return strconv.FormatInt(int64(s/GiB), 10) + "GiB"
	case s%MiB == 0:
		return strconv.FormatInt(int64(s/MiB), 10) + "MiB"
	case s%KiB == 0:
		return strconv.FormatInt(int64(s/KiB), 10) + "KiB"
	}
	return strconv.FormatInt(int64(s), 10)
}

// UnmarshalYAML reads an integer (bytes) or a string with a unit.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	v, err := sizeFromNode(n)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	*s = v
	return nil
}

// MarshalYAML writes s as String does: a string with a unit when one fits
// exactly, else an integer.
func (s Size) MarshalYAML() (any, error) {
	if str := s.String(); strings.HasSuffix(str, "B") {
		return str, nil
	}
	return int64(s), nil
}

func sizeFromNode(n *yaml.Node) (Size, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, errors.New("expected a size such as 10MiB, got " + describe(n))
	}
	switch n.ShortTag() {
	case "!!int":
		var v int64
		if err := n.Decode(&v); err != nil {
			return 0, fmt.Errorf("bad size %q: too large", n.Value)
		}
		return Size(v), nil
	case "!!str":
		return parseSize(n.Value)
	}
	return 0, fmt.Errorf("bad size %q (want bytes or an integer with a unit: 512KiB, 10MiB, 1MB, 1GiB)", n.Value)
}

// Ptr returns a pointer to v. It helps to set the optional fields of a
// Config built in code, such as Validate.CacheTTL.
func Ptr[T any](v T) *T { return &v }
