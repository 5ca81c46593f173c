package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// process is one service binary started as a "container".
type process struct {
	name, pod string
	cmd       *exec.Cmd
	cancel    context.CancelFunc
	done      chan error
	readyURL  string
	logPath   string
}

// startProcesses starts each backend pod (backend + sidecar) and the
// frontend, with the variables a pod would have.
func (l *Lab) startProcesses() error {
	common := []string{
		"PODPATHS_DNS_SERVER=" + l.dns.Addr(),
		"PODPATHS_NAMESPACE=" + l.opts.Namespace,
		"PODPATHS_NODE_NAME=localhost", "PODPATHS_NODE_IP=127.0.0.1",
		"PODPATHS_DRAIN_DELAY=0s", "PODPATHS_PEER_TIMEOUT=1s",
	}
	for _, b := range l.backends {
		pod := append(common[:len(common):len(common)], "PODPATHS_POD_NAME="+b.name, "PODPATHS_POD_IP="+b.ip)
		sidecar := append(pod[:len(pod):len(pod)],
			"PODPATHS_APP_ADDR="+net.JoinHostPort(b.ip, "9000"), "PODPATHS_ADMIN_ADDR="+net.JoinHostPort(b.ip, "9091"))
		backend := append(pod[:len(pod):len(pod)],
			"PODPATHS_APP_ADDR="+b.addr(), "PODPATHS_ADMIN_ADDR="+net.JoinHostPort(b.ip, "9090"),
			"PODPATHS_SIDECAR_ADDR="+net.JoinHostPort(b.ip, "9000"))
		if err := l.start(b.name+"-sidecar", b.name, l.bin("sidecar"), sidecar, "http://"+net.JoinHostPort(b.ip, "9091")+"/readyz"); err != nil {
			return err
		}
		if err := l.start(b.name+"-backend", b.name, l.bin("backend"), backend, "http://"+net.JoinHostPort(b.ip, "9090")+"/readyz"); err != nil {
			return err
		}
	}
	return l.startFrontendPod(common)
}

// startFrontendPod starts the frontend and, when this machine has nginx, the
// nginx in front of it, configured from the project's own template.
func (l *Lab) startFrontendPod(common []string) error {
	nginxAddr := "none"
	if bin := findNginx(l.opts.Nginx); bin != "" {
		dir, err := filepath.Abs(filepath.Join(l.opts.LogDir, "nginx"))
		if err != nil {
			return err
		}
		l.nginxDir = dir
		conf, err := l.writeNginxConfig(dir)
		if err != nil {
			return err
		}
		nginxAddr = l.nginxAddr()
		l.nginx = nginxAddr
		if err := l.start("frontend-0-nginx", "frontend-0", []string{bin, "-e", "stderr", "-p", dir, "-c", conf},
			os.Environ(), "http://"+nginxAddr+"/nginx-health"); err != nil {
			return err
		}
	}
	frontend := append(common[:len(common):len(common)], l.serviceLinks()...)
	frontend = append(frontend,
		"PODPATHS_POD_NAME=frontend-0", "PODPATHS_POD_IP=127.0.0.1",
		"PODPATHS_APP_ADDR="+l.opts.Frontend, "PODPATHS_ADMIN_ADDR="+l.opts.FrontendAdmin,
		"PODPATHS_NGINX_ADDR="+nginxAddr)
	return l.start("frontend-0-frontend", "frontend-0", l.bin("frontend"), frontend, "http://"+l.opts.FrontendAdmin+"/readyz")
}

// bin is the command line of a service binary.
func (l *Lab) bin(service string) []string { return []string{filepath.Join(l.opts.BinDir, service)} }

// serviceLinks are the variables the kubelet injects for the backend Service
// into pods created after it.
func (l *Lab) serviceLinks() []string {
	port := strconv.Itoa(backendPort)
	url := "tcp://" + net.JoinHostPort(l.opts.ServiceIP, port)
	return []string{
		"BACKEND_SERVICE_HOST=" + l.opts.ServiceIP, "BACKEND_SERVICE_PORT=" + port,
		"BACKEND_SERVICE_PORT_HTTP=" + port, "BACKEND_PORT=" + url,
		"BACKEND_PORT_" + port + "_TCP=" + url, "BACKEND_PORT_" + port + "_TCP_PROTO=tcp",
		"BACKEND_PORT_" + port + "_TCP_PORT=" + port, "BACKEND_PORT_" + port + "_TCP_ADDR=" + l.opts.ServiceIP,
	}
}

// start starts one "container": name is its log name, pod the pod it
// belongs to (so Kill can stop a whole pod).
func (l *Lab) start(name, pod string, cmdline, env []string, readyURL string) error {
	logPath := l.logFile(name)
	log, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("log for %s: %w", name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, cmdline[0], cmdline[1:]...)
	// Stop as the kubelet does: SIGTERM, then SIGKILL after a grace period.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		cancel()
		return errors.Join(fmt.Errorf("start %s: %w", name, err), log.Close())
	}
	p := &process{name: name, pod: pod, cmd: cmd, cancel: cancel, done: make(chan error, 1), readyURL: readyURL, logPath: logPath}
	go func() {
		p.done <- cmd.Wait()
		close(p.done)
		log.Close() //nolint:errcheck,gosec // the process is gone; nothing more is written
	}()
	l.procs = append(l.procs, p)
	return nil
}

// exited returns the process's exit error if it has exited, else nil.
func (p *process) exited() error {
	select {
	case err, ok := <-p.done:
		if !ok {
			return errors.New("exited")
		}
		if err == nil {
			err = errors.New("exited with status 0")
		}
		return err
	default:
		return nil
	}
}

// stop stops the process (SIGTERM, then SIGKILL after a grace period) and
// waits for it. Its exit status is not an error: we asked it to stop.
func (p *process) stop() error {
	p.cancel()
	err := <-p.done // nil once closed by an earlier stop
	var exit *exec.ExitError
	if err == nil || errors.As(err, &exit) || errors.Is(err, context.Canceled) {
		return nil
	}
	return fmt.Errorf("stop %s: %w", p.name, err)
}
