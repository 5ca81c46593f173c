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

// Identity describes one running service instance.
type Identity struct {
	Service   string    `json:"service"`
	Version   string    `json:"version"`
	Pod       string    `json:"pod"`
	Namespace string    `json:"namespace"`
	PodIP     string    `json:"pod_ip"`
	Node      string    `json:"node"`
	NodeIP    string    `json:"node_ip"`
	Hostname  string    `json:"hostname"`
	StartedAt time.Time `json:"started_at"`
}

// New builds the identity of service from env. Outside Kubernetes the pod name
// falls back to the hostname, which is what Kubernetes sets it to anyway.
func New(service, version string, env Env, now time.Time) Identity {
	hostname, err := os.Hostname()
	if err != nil {
		hostname = "unknown"
	}
	pod := env.PodName
	if pod == "" {
		pod = hostname
	}
	return Identity{
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

// Whoami is what GET /whoami returns: who answered, and what the caller looked
// like from here.
type Whoami struct {
	Identity
	ClientIP  string            `json:"client_ip"`
	Forwarded map[string]string `json:"forwarded,omitempty"`
}

// forwardingHeaders are the headers a proxy such as nginx adds, so that each
// hop's view of the client can be shown.
var forwardingHeaders = []string{
	"X-Forwarded-For", "X-Real-Ip", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Proto",
}

// ForRequest returns id as seen by the caller of r.
func ForRequest(id Identity, r *http.Request) Whoami {
	w := Whoami{Identity: id, ClientIP: RemoteIP(r)}
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
