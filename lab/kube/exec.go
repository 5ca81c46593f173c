package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/streaming/pkg/httpstream"
)

// ExecResult is what a command run in a container printed, and how it ended.
type ExecResult struct {
	Stdout, Stderr []byte
	ExitCode       int
}

// Exec runs cmd in a container the way `kubectl exec` does: over a WebSocket
// to the API server, falling back to SPDY when the server cannot upgrade.
// A non-zero exit is a result, not an error; an error means the command
// could not be run or its streams broke.
func (c Clients) Exec(ctx context.Context, namespace, pod, container string, cmd []string) (ExecResult, error) {
	req := c.Kube.CoreV1().RESTClient().Post().
		Resource("pods").Namespace(namespace).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: container, Command: cmd, Stdout: true, Stderr: true,
		}, scheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(c.Config, http.MethodGet, req.URL().String())
	if err != nil {
		return ExecResult{}, fmt.Errorf("exec %s/%s: %w", namespace, pod, err)
	}
	sp, err := remotecommand.NewSPDYExecutor(c.Config, http.MethodPost, req.URL())
	if err != nil {
		return ExecResult{}, fmt.Errorf("exec %s/%s: %w", namespace, pod, err)
	}
	ex, err := remotecommand.NewFallbackExecutor(ws, sp, fallback)
	if err != nil {
		return ExecResult{}, fmt.Errorf("exec %s/%s: %w", namespace, pod, err)
	}
	var stdout, stderr bytes.Buffer
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr})
	res := ExecResult{Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
	var exit utilexec.ExitError
	switch {
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitStatus()
	case err != nil:
		return res, fmt.Errorf("exec %q in %s/%s: %w (stderr %q)", cmd, namespace, pod, err, stderr.String())
	}
	return res, nil
}

// fallback says when to retry a stream over SPDY, as kubectl does.
func fallback(err error) bool {
	return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
}

// PortForward forwards a local port on 127.0.0.1 into the pod's network
// namespace, to port there, as `kubectl port-forward` does. It reaches even a
// port that listens on the pod's loopback only, because the kubelet connects
// from inside the pod. stop ends the forwarding and returns how it ended.
func (c Clients) PortForward(ctx context.Context, namespace, pod string, port int) (addr string, stop func() error, err error) {
	req := c.Kube.CoreV1().RESTClient().Post().
		Resource("pods").Namespace(namespace).Name(pod).SubResource("portforward")
	transport, upgrader, err := spdy.RoundTripperFor(c.Config)
	if err != nil {
		return "", nil, fmt.Errorf("port-forward %s/%s: %w", namespace, pod, err)
	}
	dialer := spdy.NewDialerForStreaming(upgrader, &http.Client{Transport: transport}, http.MethodPost, req.URL())
	tunnel, err := portforward.NewSPDYOverWebsocketDialerForStreaming(req.URL(), c.Config)
	if err != nil {
		return "", nil, fmt.Errorf("port-forward %s/%s: %w", namespace, pod, err)
	}
	fwCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ready := make(chan struct{})
	var errOut bytes.Buffer
	fw, err := portforward.NewOnAddressesForStreamingWithContext(fwCtx, portforward.NewFallbackDialerForStreaming(tunnel, dialer, fallback),
		[]string{"127.0.0.1"}, []string{"0:" + strconv.Itoa(port)}, ready, io.Discard, &errOut)
	if err != nil {
		cancel()
		return "", nil, fmt.Errorf("port-forward %s/%s: %w", namespace, pod, err)
	}
	done := make(chan error, 1)
	go func() { done <- fw.ForwardPorts() }()
	stop = func() error {
		cancel()
		return <-done
	}
	select {
	case <-ready:
	case err := <-done:
		cancel()
		return "", nil, fmt.Errorf("port-forward %s/%s: %w (%s)", namespace, pod, err, errOut.String())
	case <-ctx.Done():
		return "", nil, errors.Join(fmt.Errorf("port-forward %s/%s: %w", namespace, pod, ctx.Err()), stop())
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) == 0 {
		return "", nil, errors.Join(fmt.Errorf("port-forward %s/%s: no local port: %v", namespace, pod, err), stop())
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(int(ports[0].Local))), stop, nil
}
