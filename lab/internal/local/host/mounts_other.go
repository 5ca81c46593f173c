//go:build !linux

package host

import "errors"

// unmount: the local cluster runs only on Linux. The lab still builds
// elsewhere, for kind.
func unmount(string) error { return errors.New("the local cluster needs Linux") }
