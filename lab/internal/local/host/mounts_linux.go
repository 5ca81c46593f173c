package host

import (
	"errors"
	"syscall"
)

// unmount unmounts m, lazily when it is busy; EINVAL means it is no longer a
// mount point (a parent's unmount took it along).
func unmount(m string) error {
	if err := syscall.Unmount(m, 0); err == nil {
		return nil
	}
	if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}
