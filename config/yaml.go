package config

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// YAML prints c as YAML with every key present, in the order of
// docs/configuration.md: durations as Go strings (2s, 1m), sizes with a
// binary unit when one fits exactly (10MiB), and every $ in a string written
// as $$, so that Parse reads the output back to the same Config. YAML does
// not redact: print c.Redacted().YAML() to show a config.
func (c *Config) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(toNode(reflect.ValueOf(c).Elem())); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return buf.Bytes(), nil
}

// formatDuration writes d as time.Duration.String does, without the zero
// units at its end: 1m, 168h, 1h30m, 100ms.
func formatDuration(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "m0s")
	if len(s) != len(d.String()) {
		s += "m"
	}
	if t := strings.TrimSuffix(s, "h0m"); t != s {
		s = t + "h"
	}
	return s
}

func scalar(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

// toNode builds the YAML node of a Config value.
func toNode(v reflect.Value) *yaml.Node {
	switch v.Type() {
	case durationType:
		return scalar("!!str", formatDuration(time.Duration(v.Int())))
	case sizeType:
		if s := Size(v.Int()).String(); strings.HasSuffix(s, "B") {
			return scalar("!!str", s)
		}
		return scalar("!!int", strconv.FormatInt(v.Int(), 10))
	case secureType:
		if s := Secure(v.String()); s == SecureAlways || s == SecureNever {
			return scalar("!!bool", string(s))
		}
		return scalar("!!str", escapeDollars(v.String()))
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return scalar("!!null", "null")
		}
		return toNode(v.Elem())
	case reflect.Struct:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		fs := yamlFields(v.Type())
		for _, name := range fs.names {
			n.Content = append(n.Content, scalar("!!str", name), toNode(v.Field(fs.index[name])))
		}
		return n
	case reflect.Slice:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
		if k := v.Type().Elem().Kind(); k == reflect.Struct || k == reflect.Interface {
			n.Style = 0
		}
		if v.Len() == 0 {
			n.Style = yaml.FlowStyle
		}
		for i := range v.Len() {
			n.Content = append(n.Content, toNode(v.Index(i)))
		}
		return n
	case reflect.Map:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if v.Len() == 0 {
			n.Style = yaml.FlowStyle
		}
		keys := make([]string, 0, v.Len())
		for it := v.MapRange(); it.Next(); {
			keys = append(keys, it.Key().String())
		}
		slices.Sort(keys)
		for _, k := range keys {
			n.Content = append(n.Content, scalar("!!str", k), toNode(v.MapIndex(reflect.ValueOf(k))))
		}
		return n
	case reflect.String:
		return scalar("!!str", escapeDollars(v.String()))
	case reflect.Bool:
		return scalar("!!bool", strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return scalar("!!int", strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return scalar("!!int", strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		switch {
		case math.IsNaN(f):
			return scalar("!!float", ".nan")
		case math.IsInf(f, 1):
			return scalar("!!float", ".inf")
		case math.IsInf(f, -1):
			return scalar("!!float", "-.inf")
		}
		s := strconv.FormatFloat(f, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0" // stays a float when read back
		}
		return scalar("!!float", s)
	}
	return scalar("!!str", fmt.Sprint(v.Interface()))
}
