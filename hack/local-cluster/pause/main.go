// Command pause is the pod sandbox of the podpaths local cluster, the image
// localhost/podpaths/pause:3.10 that containerd starts first in every pod
// (its sandbox_image). The sandbox holds the pod's network namespace, which
// all of the pod's containers join: that is why they share one IP and reach
// each other on localhost. It does nothing but wait. When a pod shares its
// process namespace the sandbox is PID 1, so it also reaps the orphaned
// children that nobody else would. SIGINT or SIGTERM end it.
//
// hack/images.sh builds it static (CGO_ENABLED=0) and packs it FROM scratch.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	run(sigs, reap)
}

// run waits for signals: SIGCHLD reaps, anything else ends the wait.
func run(sigs <-chan os.Signal, reap func()) {
	for s := range sigs {
		if s != syscall.SIGCHLD {
			return
		}
		reap()
	}
}

// reap collects every child that has exited, without blocking: one SIGCHLD
// may stand for several children.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
