package host

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// mountPoints lists the mount points of this mount namespace, from
// /proc/self/mountinfo, whose fifth field is the mount point with spaces and
// other special characters octal-escaped.
func mountPoints() ([]string, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("mounts: %w", err)
	}
	var points []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 4 {
			points = append(points, unescapeMount(f[4]))
		}
	}
	return points, sc.Err()
}

// unescapeMount undoes the kernel's \ooo escapes in mountinfo paths.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) && isOctal(s[i+1:i+4]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := range 3 {
		if s[i] < '0' || s[i] > '7' {
			return false
		}
	}
	return true
}

// mountsUnder lists the mount points at or below dir, deepest first, the
// order they must be unmounted in.
func mountsUnder(points []string, dir string) []string {
	dir = filepath.Clean(dir)
	var under []string
	for _, p := range points {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			under = append(under, p)
		}
	}
	slices.SortFunc(under, func(a, b string) int {
		if d := strings.Count(b, "/") - strings.Count(a, "/"); d != 0 {
			return d
		}
		return strings.Compare(b, a)
	})
	return slices.Compact(under)
}

// UnmountUnder unmounts everything mounted at or below dir (pod volumes,
// sandbox /dev/shm, container root filesystems, the kubelet's own bind mount
// of its root dir), deepest first, and fails when something stays mounted.
func UnmountUnder(dir string) error {
	points, err := mountPoints()
	if err != nil {
		return err
	}
	for _, m := range mountsUnder(points, dir) {
		if err := unmount(m); err != nil {
			return fmt.Errorf("unmount %s: %w", m, err)
		}
	}
	if points, err = mountPoints(); err != nil {
		return err
	}
	if left := mountsUnder(points, dir); len(left) > 0 {
		return fmt.Errorf("still mounted, state kept: %s", strings.Join(left, " "))
	}
	return nil
}
