package demo

import (
	"fmt"

	"go.uber.org/zap"
)

// serverLogger is the fasthttp.Logger of a demo backend: fasthttp's
// messages (mostly "error when serving connection ...", which can quote
// kilobytes of the bytes received) go to log at debug level, tagged with
// the backend's name, or nowhere when log is nil, instead of fasthttp's
// default logger on stderr.
type serverLogger struct {
	log  *zap.Logger
	name string
}

// Printf logs one fasthttp message at debug level; it formats nothing
// when debug is off.
func (l serverLogger) Printf(format string, args ...any) {
	if l.log == nil {
		return
	}
	if ce := l.log.Check(zap.DebugLevel, "demo backend: fasthttp"); ce != nil {
		ce.Write(zap.String("backend", l.name), zap.String("message", fmt.Sprintf(format, args...)))
	}
}
