//go:build !unix

// Package proc starts helper programs that must outlive the lab command that
// started them and stops them later by their recorded pid. Only Unix (Linux,
// macOS) is supported; on other systems start the helpers yourself.
package proc

import (
	"context"
	"errors"
	"time"
)

var errUnsupported = errors.New("starting background helpers is supported on Linux and macOS only")

// Start is not supported here.
func Start(string, []string, string, string) (int, error) { return 0, errUnsupported }

// Running reports nothing running.
func Running(string, string) (int, bool) { return 0, false }

// Stop has nothing to stop.
func Stop(context.Context, string, string, time.Duration) error { return nil }

// Kill is not supported here.
func Kill(int) error { return errUnsupported }
