// Package identity tells a service who it is: the pod, node and addresses the
// kubelet hands it through the downward API, with the hostname as a fallback
// outside Kubernetes.
//
// See https://kubernetes.io/docs/concepts/workloads/pods/downward-api/.
package identity

import (
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/podpaths/podpaths/platform/report"
)

// Env holds the downward-API variables. Services embed it in their config,
// which adds the PODPATHS_ prefix.
type Env struct {
	PodName   string `env:"POD_NAME"`
	Namespace string `env:"NAMESPACE"`
	PodIP     string `env:"POD_IP"`
	NodeName  string `env:"NODE_NAME"`
	NodeIP    string `env:"NODE_IP"`
}

// New builds the identity of service from env. Outside Kubernetes the pod name
// falls back to the hostname, which is what Kubernetes sets it to anyway.
func New(service, version string, env Env, now time.Time) report.Identity {
	hostname, err := os.Hostname()
	if err != nil {
		hostname = "unknown"
	}
	pod := env.PodName
	if pod == "" {
		pod = hostname
	}
	return report.Identity{
		Service:   service,
		Version:   version,
		Pod:       pod,
		Namespace: env.Namespace,
		PodIP:     env.PodIP,
		Node:      env.NodeName,
		NodeIP:    env.NodeIP,
		Hostname:  hostname,
		StartedAt: now.UTC(),
	}
}

// forwardingHeaders are the headers a proxy such as nginx adds, so that each
// hop's view of the client can be shown.
var forwardingHeaders = []string{
	"X-Forwarded-For", "X-Real-Ip", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Proto",
}

// ForRequest returns id as seen by the caller of r: the /whoami answer.
func ForRequest(id report.Identity, r *http.Request) report.Whoami {
	w := report.Whoami{Identity: id, ClientIP: RemoteIP(r)}
	for _, h := range forwardingHeaders {
		if v := r.Header.Get(h); v != "" {
			if w.Forwarded == nil {
				w.Forwarded = make(map[string]string, len(forwardingHeaders))
			}
			w.Forwarded[strings.ToLower(h)] = v
		}
	}
	return w
}

// RemoteIP is the IP address of the peer of r's connection: the previous hop,
// not necessarily the original client.
func RemoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
