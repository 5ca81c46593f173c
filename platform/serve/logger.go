package serve

import (
	"io"
	"log/slog"
)

// NewLogger returns the JSON logger a service passes down from run.
func NewLogger(w io.Writer, level slog.Level, service string) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})).With("service", service)
}
