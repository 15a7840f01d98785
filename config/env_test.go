package config

import "testing"

func TestExpand(t *testing.T) {
	env := lookupEnv(map[string]string{
		"HOST":   "backend.internal",
		"EMPTY":  "",
		"DOLLAR": "a$b${HOST}",
		"PORT":   "8000",
	})
	tests := []struct {
		name, in, want, err string
	}{
		{name: "no variable", in: "plain", want: "plain"},
		{name: "set variable", in: "http://${HOST}:${PORT}/", want: "http://backend.internal:8000/"},
		{name: "unset variable is an error", in: "x${NOPE}y", err: "environment variable NOPE is not set (set it, or write ${NOPE:-} for an empty value)"},
		{name: "every unset variable named once", in: "${NOPE}:${HOST}@${NADA}/${NOPE}", err: "environment variables NOPE, NADA are not set (set them, or write ${NAME:-} for an empty value)"},
		{name: "set but empty variable is empty", in: "x${EMPTY}y", want: "xy"},
		{name: "unset variable inside an escape is literal", in: "$${NOPE}", want: "${NOPE}"},
		{name: "default when unset", in: "${NOPE:-fallback}", want: "fallback"},
		{name: "default when empty", in: "${EMPTY:-fallback}", want: "fallback"},
		{name: "set value wins over default", in: "${HOST:-fallback}", want: "backend.internal"},
		{name: "empty default", in: "${NOPE:-}", want: ""},
		{name: "default with colon and dash", in: "${NOPE:-a:-b}", want: "a:-b"},
		{name: "double dollar is a literal dollar", in: "pa$$word", want: "pa$word"},
		{name: "escaped reference stays literal", in: "$${HOST}", want: "${HOST}"},
		{name: "lone dollar kept", in: "cost $5", want: "cost $5"},
		{name: "trailing dollar kept", in: "abc$", want: "abc$"},
		{name: "unbraced name not expanded", in: "$HOST", want: "$HOST"},
		{name: "value is not expanded again", in: "${DOLLAR}", want: "a$b${HOST}"},
		{name: "adjacent references", in: "${HOST}${PORT}", want: "backend.internal8000"},
		{name: "unterminated", in: "x${HOST", err: "unterminated ${ (write $$ for a literal $)"},
		{name: "empty name", in: "${}", err: "bad variable reference ${} (want ${NAME} or ${NAME:-default}; write $$ for a literal $)"},
		{name: "name starting with a digit", in: "${1A}", err: "bad variable reference ${1A} (want ${NAME} or ${NAME:-default}; write $$ for a literal $)"},
		{name: "other operator", in: "${A:?x}", err: "bad variable reference ${A:?x} (want ${NAME} or ${NAME:-default}; write $$ for a literal $)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := expand(tt.in, env)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("expand(%q) error = %v, want %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestEscapeDollarsInvertsExpand(t *testing.T) {
	for _, s := range []string{"", "plain", "pa$word", "$${X}", "${HOST}", "$$", "a$"} {
		t.Run(s, func(t *testing.T) {
			got, err := expand(escapeDollars(s), lookupEnv(map[string]string{"HOST": "h", "X": "x"}))
			if err != nil || got != s {
				t.Fatalf("expand(escapeDollars(%q)) = %q, %v", s, got, err)
			}
		})
	}
}
