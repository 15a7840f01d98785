package apilayer

import (
	"io"
	"log/slog"
	"strings"

	"github.com/apilayer/apilayer/config"
)

// NewLogger returns the logger cmd/apilayer uses for cfg (config.Log), for
// programs that embed the gateway and want the same: JSON or text at the
// configured level. As a second line of defence behind code
// that never logs secrets, attributes whose key names a secret (token,
// authorization, cookie, password, secret) are written as "REDACTED".
func NewLogger(cfg config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	switch strings.ToLower(cfg.Level) {
	case "debug":
		level = slog.LevelDebug
	case "warn", "warning":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: redactAttr}
	if strings.EqualFold(cfg.Format, "text") {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func redactAttr(_ []string, a slog.Attr) slog.Attr {
	k := strings.ToLower(a.Key)
	for _, s := range [...]string{"token", "authorization", "cookie", "password", "secret"} {
		if strings.Contains(k, s) {
			return slog.String(a.Key, "REDACTED")
		}
	}
	return a
}
