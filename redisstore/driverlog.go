package redisstore

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// SetDriverLogger sends the messages of the Redis driver (go-redis, whose
// logger is global to the process) to l at debug level, instead of to
// standard error. While Redis is down the driver reports each failed dial;
// the Store itself logs only the changes of availability. Call it once,
// from main, before New. A nil l discards the messages.
func SetDriverLogger(l *slog.Logger) {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	redis.SetLogger(driverLogger{l})
}

type driverLogger struct{ l *slog.Logger }

func (d driverLogger) Printf(ctx context.Context, format string, v ...any) {
	if d.l.Enabled(ctx, slog.LevelDebug) {
		d.l.DebugContext(ctx, "redisstore: driver: "+fmt.Sprintf(format, v...))
	}
}
