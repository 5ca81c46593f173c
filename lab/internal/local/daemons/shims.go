package daemons

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/podpaths/podpaths/lab/internal/proc"
)

// KillShims kills the shims of the containerd at socket that outlived it. A
// shim runs in its own process group, so stopping containerd leaves it;
// after `crictl rmp` there should be none.
func KillShims(socket string) error {
	pids, err := processesMatching(func(cmdline string) bool {
		return strings.Contains(cmdline, "containerd-shim") && strings.Contains(cmdline, socket)
	})
	if err != nil {
		return err
	}
	for _, pid := range pids {
		if err := proc.Kill(pid); err != nil {
			return fmt.Errorf("kill shim %d: %w", pid, err)
		}
	}
	return nil
}

// processesMatching lists the pids whose command line satisfies match.
func processesMatching(match func(cmdline string) bool) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if match(string(bytes.ReplaceAll(raw, []byte{0}, []byte{' '}))) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}
