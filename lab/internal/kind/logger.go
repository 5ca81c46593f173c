package kind

import (
	"fmt"
	"log/slog"

	kindlog "sigs.k8s.io/kind/pkg/log"
)

// logger adapts slog to kind's klog-like Logger, so kind's progress ("Ensuring
// node image", "Preparing nodes", ...) lands in the lab's log.
type logger struct {
	l         *slog.Logger
	verbosity kindlog.Level
}

func newLogger(l *slog.Logger, verbosity int) kindlog.Logger {
	return logger{l: l, verbosity: kindlog.Level(verbosity)}
}

func (k logger) Warn(message string)               { k.l.Warn(message) }
func (k logger) Warnf(format string, args ...any)  { k.l.Warn(fmt.Sprintf(format, args...)) }
func (k logger) Error(message string)              { k.l.Error(message) }
func (k logger) Errorf(format string, args ...any) { k.l.Error(fmt.Sprintf(format, args...)) }
func (k logger) V(level kindlog.Level) kindlog.InfoLogger {
	return infoLogger{l: k.l, enabled: level <= k.verbosity, debug: level > 0}
}

type infoLogger struct {
	l       *slog.Logger
	enabled bool
	debug   bool
}

func (i infoLogger) Enabled() bool { return i.enabled }

func (i infoLogger) Info(message string) {
	if !i.enabled {
		return
	}
	if i.debug {
		i.l.Debug(message)
		return
	}
	i.l.Info(message)
}

func (i infoLogger) Infof(format string, args ...any) {
	if i.enabled {
		i.Info(fmt.Sprintf(format, args...))
	}
}
