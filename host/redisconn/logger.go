package redisconn

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/redis/go-redis/v9"
)

// clientLogger carries go-redis's own messages (dial failures, sentinel
// switches) into hemostatd's structured log instead of bare stderr lines.
type clientLogger struct{ log hclog.Logger }

func (l clientLogger) Printf(_ context.Context, format string, v ...any) {
	l.log.Warn(strings.TrimSpace(fmt.Sprintf(format, v...)))
}

// SetClientLogger sends go-redis's messages to log. go-redis keeps one
// logger per process, so the daemon sets it once.
func SetClientLogger(log hclog.Logger) { redis.SetLogger(clientLogger{log: log}) }
