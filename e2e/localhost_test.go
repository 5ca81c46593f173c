//go:build e2e

package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/podpaths/podpaths/e2e/internal/cluster"
	"github.com/podpaths/podpaths/platform/report"
)

// Loopback-only ports: the sidecar's app port and the frontend's.
const (
	sidecarPort  = 9000
	frontendPort = 3000
	backendPort  = 8080
	nginxPort    = 8080
)

// TestLocalhost proves the pod's shared network namespace: containers of
// one pod reach each other on 127.0.0.1 and see the same pod IP and
// hostname, while another pod cannot reach a port bound to loopback, even at
// the right pod IP.
func TestLocalhost(t *testing.T) {
	r := begin(t, 3*time.Minute)
	backends := r.pods(t, cluster.Backend)
	frontends := r.pods(t, cluster.Frontend)

	t.Run("backend-sidecar", func(t *testing.T) {
		for _, pod := range backends {
			t.Run(pod.Name, func(t *testing.T) {
				// The backend calls its sidecar on 127.0.0.1:9000 and
				// reports the call in its /api/whoami answer.
				u := serviceURL(pod.Status.PodIP, backendPort, "/api/whoami")
				out := probeGet(t, r.ctx, r.probe, u)
				c := out.Calls[0]
				if !c.OK {
					t.Fatalf("GET %s from pod %s: %s", u, r.probe.Pod.Name, describeCall(c))
				}
				var answer report.BackendWhoami
				if err := json.Unmarshal(c.Body, &answer); err != nil {
					t.Fatalf("decode %s: %v", u, err)
				}
				sc := answer.Sidecar
				if !sc.OK || sc.AnsweredBy == nil {
					t.Fatalf("backend %s -> sidecar over localhost failed: %s", pod.Name, describePath(sc))
				}
				// The sidecar binds loopback only, so its own /whoami is
				// asked through a port-forward, which the kubelet connects
				// from inside the pod's network namespace.
				addr, stop, err := r.env.PortForward(r.ctx, pod.Namespace, pod.Name, sidecarPort)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					if err := stop(); err != nil {
						t.Errorf("port-forward to %s:%d ended with %v", pod.Name, sidecarPort, err)
					}
				})
				side := fromHere(r.ctx, "http://"+addr+"/whoami", callTimeout).Calls[0]
				if !side.OK || side.AnsweredBy == nil {
					t.Fatalf("sidecar /whoami of %s through a port-forward: %s", pod.Name, describeCall(side))
				}
				if answer.PodIP != pod.Status.PodIP || sc.AnsweredBy.PodIP != pod.Status.PodIP || side.AnsweredBy.PodIP != pod.Status.PodIP {
					t.Errorf("pod %s (IP %s): backend reports pod IP %s, the sidecar it called %s, the sidecar itself %s; want all the pod's IP: one network namespace",
						pod.Name, pod.Status.PodIP, answer.PodIP, sc.AnsweredBy.PodIP, side.AnsweredBy.PodIP)
				}
				if answer.Hostname == "" || side.Hostname != answer.Hostname || sc.AnsweredBy.Pod != answer.Pod {
					t.Errorf("pod %s: backend reports hostname %q and pod %q, sidecar hostname %q and pod %q; want the same: one pod, one UTS namespace",
						pod.Name, answer.Hostname, answer.Pod, side.Hostname, sc.AnsweredBy.Pod)
				}
			})
		}
	})

	t.Run("nginx-frontend", func(t *testing.T) {
		for _, pod := range frontends {
			t.Run(pod.Name, func(t *testing.T) {
				// nginx in the pod proxies / to 127.0.0.1:3000: the frontend
				// answers and sees nginx's loopback address as its client,
				// with the probe's address in X-Real-IP.
				u := serviceURL(pod.Status.PodIP, nginxPort, "/whoami")
				c := probeGet(t, r.ctx, r.probe, u).Calls[0]
				switch {
				case !c.OK || c.AnsweredBy == nil:
					t.Fatalf("GET %s (nginx in %s) from pod %s: %s", u, pod.Name, r.probe.Pod.Name, describeCall(c))
				case c.AnsweredBy.Pod != pod.Name:
					t.Errorf("GET %s answered by %s, want the frontend of the same pod %s", u, c.AnsweredBy.Pod, pod.Name)
				case c.ClientIP != "127.0.0.1":
					t.Errorf("the frontend in %s saw client %s, want 127.0.0.1: nginx reaches it over the pod's loopback", pod.Name, c.ClientIP)
				case c.Forwarded["x-real-ip"] != r.probe.Pod.Status.PodIP:
					t.Errorf("nginx in %s passed X-Real-IP %q, want the probe pod's IP %s", pod.Name, c.Forwarded["x-real-ip"], r.probe.Pod.Status.PodIP)
				}
			})
		}
	})

	// Another pod dials the right IP and port, but nothing listens there on
	// the pod's interface: the kernel answers with a reset, so the call is
	// refused at once (not a timeout, which would mean a drop).
	refused := func(t *testing.T, ip string, port int, what string) {
		t.Helper()
		u := serviceURL(ip, port, "/whoami")
		c := probeGet(t, r.ctx, r.probe, u, "--timeout", callTimeout.String()).Calls[0]
		if c.OK || c.ErrorKind != report.ErrorRefused {
			t.Errorf("GET %s (%s) from pod %s: %s; want refused: it listens on 127.0.0.1 only", u, what, r.probe.Pod.Name, describeCall(c))
		}
	}
	t.Run("sidecar-port-closed-to-other-pods", func(t *testing.T) {
		for _, pod := range backends {
			t.Run(pod.Name, func(t *testing.T) { refused(t, pod.Status.PodIP, sidecarPort, "sidecar of "+pod.Name) })
		}
	})
	t.Run("frontend-port-closed-to-other-pods", func(t *testing.T) {
		for _, pod := range frontends {
			t.Run(pod.Name, func(t *testing.T) { refused(t, pod.Status.PodIP, frontendPort, "frontend of "+pod.Name) })
		}
	})
}
