package doctor

import (
	"context"
	"net"
	"os"
	"os/exec"
)

// LookPath implements Machine.
func (Host) LookPath(name string) (string, error) { return exec.LookPath(name) }

// Output implements Machine.
func (Host) Output(ctx context.Context, name string, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, name, args...).Output()
}

// ReadFile implements Machine.
func (Host) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }

// CanListen implements Machine: it binds addr and lets go at once.
func (Host) CanListen(addr string) bool {
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return false
	}
	return ln.Close() == nil
}

// UID implements Machine.
func (Host) UID() int { return os.Getuid() }
