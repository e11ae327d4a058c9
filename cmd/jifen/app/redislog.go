package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	mysqldrv "github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
)

// redisLog is go-redis's own logger (a pool that cannot dial, a failed
// health check) as warnings of the default slog logger, read at each line,
// so they come out as JSON beside every other line, through whatever
// handler the command has set (serve's buffered one included).
type redisLog struct{}

func (redisLog) Printf(ctx context.Context, format string, v ...any) {
	slog.Default().WarnContext(ctx, fmt.Sprintf(format, v...))
}

// LogRedisToSlog sends go-redis's internal log lines, which it otherwise
// writes to stderr as plain text, to slog.Default() at warn level. The
// logger is process-wide in go-redis: call it once, where logging is set up.
func LogRedisToSlog() { redis.SetLogger(redisLog{}) }

// mysqlLog is go-sql-driver's own logger ("[mysql] … connection.go:49:
// unexpected EOF", a connection the server dropped) as warnings of the
// default slog logger, like redisLog.
type mysqlLog struct{}

func (mysqlLog) Print(v ...any) {
	slog.Default().Warn("mysql driver: " + strings.TrimSpace(fmt.Sprint(v...)))
}

// LogMySQLToSlog sends go-sql-driver's internal log lines, which it
// otherwise writes to stderr as plain text, to slog.Default() at warn
// level. Process-wide, like LogRedisToSlog.
func LogMySQLToSlog() { _ = mysqldrv.SetLogger(mysqlLog{}) }
