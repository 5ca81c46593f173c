// Package kindlab is what the lab runs beside a kind cluster, for the lab's
// kind provider and for the e2e suite, as localnodes is for the local
// cluster. It needs only the docker CLI, not kind.
package kindlab

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
)

// ExternalLBHostPort is where this machine reaches the external load
// balancer in front of the NodePorts: 127.0.0.1 only, beside the NodePort's
// 30080, on every OS.
const ExternalLBHostPort = 30090

// ExternalLBName is the load balancer's container: <cluster>-external-lb.
func ExternalLBName(cluster string) string { return cluster + "-external-lb" }

// ExternalLBAddr is where this machine reaches the load balancer.
func ExternalLBAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(ExternalLBHostPort))
}

// ExternalLB is the load balancer's address while the container of the kind
// cluster called cluster runs, else "" with the reason.
func ExternalLB(ctx context.Context, cluster string) (string, string) {
	name := ExternalLBName(cluster)
	out, err := Docker(ctx, "inspect", "--format", "{{.State.Running}}", name)
	switch {
	case err != nil:
		return "", "kind: the external load balancer's container " + name + " does not exist (make kind-up starts it)"
	case strings.TrimSpace(string(out)) != "true":
		return "", "kind: the external load balancer's container " + name + " is not running (docker logs " + name + ")"
	}
	return ExternalLBAddr(), ""
}

// Docker runs the docker CLI and returns what it printed; an error carries
// its error output.
func Docker(ctx context.Context, args ...string) ([]byte, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("docker %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
