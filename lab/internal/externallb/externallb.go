// Package externallb renders the configuration of the lab's hand-made
// external load balancer: HAProxy in front of every node's NodePort, the
// seed's "external load balancer (aws-alb) -> NodePort on each node, created
// by hand ahead of time". The local cluster runs it in its outside client's
// network namespace, kind in a container beside its nodes; both render it
// here, from the nodes.
package externallb

import (
	"bytes"
	_ "embed" // the template
	"fmt"
	"net/netip"
	"text/template"

	"github.com/podpaths/podpaths/lab/kube"
)

//go:embed haproxy.cfg.tmpl
var configText string

var configTemplate = template.Must(template.New("haproxy.cfg").Parse(configText))

// HealthPort is kube-proxy's healthz port (healthzBindAddress), which the
// load balancer asks about each node, as cloud load balancers do.
const HealthPort = kube.KubeProxyHealthPort

// Server is one node behind the load balancer: its name, which the load
// balancer names in each answer's X-Podpaths-Node header, and its NodePort.
type Server struct {
	Name string
	Addr netip.AddrPort
}

// Config is what the configuration says.
type Config struct {
	// Listen is the address:port HAProxy serves on.
	Listen string
	// User is the user HAProxy drops to after it binds; "" keeps the one it
	// was started as (a container image's own).
	User string
	// Where says where it runs, for the file's header.
	Where   string
	Servers []Server
}

// Render renders HAProxy's configuration.
func Render(c Config) ([]byte, error) {
	var b bytes.Buffer
	view := struct {
		Config
		HealthPort int
	}{c, HealthPort}
	if err := configTemplate.Execute(&b, view); err != nil {
		return nil, fmt.Errorf("render haproxy.cfg: %w", err)
	}
	return b.Bytes(), nil
}
