package serve

import (
	"context"
	"io"

	"github.com/podpaths/podpaths/platform/config"
)

// Config is a service's configuration: its own settings and, embedded, the
// ones every service shares (config.Common, whose Base it promotes).
type Config interface{ Base() config.Common }

// StartFunc serves a service until ctx is done, with the Service that
// Program made from cfg's common part; environ is the whole environment,
// for a service that reads more of it than its configuration.
type StartFunc[C Config] func(ctx context.Context, svc *Service, cfg C, environ []string) error

// Program makes a service's RunFunc from its two halves: load reads its
// configuration from environ, and start serves with it. Every service
// starts in this order, so a bad configuration fails, naming the variable,
// before anything listens or logs. Main runs it; tests run it with an
// environment of their own.
func Program[C Config](name, version string, load func(environ []string) (C, error), start StartFunc[C]) RunFunc {
	return func(ctx context.Context, environ []string, stdout io.Writer) error {
		cfg, err := load(environ)
		if err != nil {
			return err
		}
		return start(ctx, NewService(name, version, cfg.Base(), stdout), cfg, environ)
	}
}
