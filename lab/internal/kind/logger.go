package kind

import (
	"fmt"
	"log/slog"
	"strings"
	"unicode"

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

func (k logger) Warn(message string)               { k.l.Warn(tidy(message).text) }
func (k logger) Warnf(format string, args ...any)  { k.Warn(fmt.Sprintf(format, args...)) }
func (k logger) Error(message string)              { k.l.Error(tidy(message).text) }
func (k logger) Errorf(format string, args ...any) { k.Error(fmt.Sprintf(format, args...)) }
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
	m := tidy(message)
	switch {
	case m.failed:
		i.l.Error(m.text)
	case i.debug:
		i.l.Debug(m.text)
	default:
		i.l.Info(m.text)
	}
}

func (i infoLogger) Infof(format string, args ...any) {
	if i.enabled {
		i.Info(fmt.Sprintf(format, args...))
	}
}

// message is one of kind's lines, made fit for a structured log.
type message struct {
	text   string
	failed bool
}

// tidy turns kind's terminal status lines (" • Preparing nodes 📦 📦  ...\n",
// " ✓ ...", " ✗ ...") into plain log messages: kind writes them for a
// terminal, where the marks, pictures and newline make sense. A step that
// ended with ✗ failed, so it is logged as an error, not as progress.
func tidy(s string) message {
	s = strings.TrimSpace(s)
	var m message
	switch {
	case strings.HasPrefix(s, "✗"):
		m.failed = true
		s = "failed: " + strings.TrimPrefix(s, "✗")
	case strings.HasPrefix(s, "✓"):
		s = "done: " + strings.TrimPrefix(s, "✓")
	case strings.HasPrefix(s, "•"):
		s = strings.TrimSuffix(strings.TrimPrefix(s, "•"), "...")
	}
	m.text = strings.Join(strings.Fields(strings.Map(dropPicture, s)), " ")
	return m
}

// dropPicture removes emoji and their variation selectors.
func dropPicture(r rune) rune {
	if unicode.Is(unicode.So, r) || unicode.Is(unicode.Variation_Selector, r) {
		return -1
	}
	return r
}
