package main

import (
	"context"

	"github.com/podpaths/podpaths/lab/internal/doctor"
)

// lab doctor: what the provider's lab needs on this machine.

func (a *app) doctor(ctx context.Context, args []string) error {
	if err := a.parse(a.flags("doctor"), args); err != nil {
		return err
	}
	checks := doctor.Kind(a.d.machine)
	if a.g.provider == "local" {
		checks = doctor.Local(a.d.machine)
	}
	fails, err := doctor.Run(ctx, a.stdout, checks)
	if err != nil {
		return err
	}
	if fails > 0 {
		return errCheckFailed
	}
	return nil
}
