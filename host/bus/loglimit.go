package bus

import (
	"sync"
	"time"
)

// logLimiter lets one warning through per interval and counts the rest,
// so a flood of bad input cannot flood the log.
type logLimiter struct {
	mu         sync.Mutex
	next       time.Time
	suppressed int
}

const logInterval = time.Second

// allow reports whether to log now and how many warnings were held back
// since the last one that was logged.
func (l *logLimiter) allow(now time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.next) {
		l.suppressed++
		return false, 0
	}
	l.next = now.Add(logInterval)
	suppressed, l.suppressed = l.suppressed, 0
	return true, suppressed
}
