// Package facts is what `lab up --provider local` records about the cluster
// it started, in cluster.json in its state directory: the nodes, the ranges,
// and the client outside the cluster. The lab writes it and reads it back;
// the e2e suite reads it to find its way around without asking the lab.
package facts

import (
	"encoding/json"
	"fmt"
	"os"
)

// Facts is cluster.json.
type Facts struct {
	Name       string `json:"name"`
	Kubeconfig string `json:"kubeconfig"`
	// Nodes in order; the first runs the control plane.
	Nodes []Node `json:"nodes"`
	// NodeName and NodeIP repeat the first node for single-node readers.
	NodeName string `json:"nodeName"`
	NodeIP   string `json:"nodeIP"`
	// Outside is the client outside the cluster: run
	// `nsenter --net=<netns> <command>` to be it.
	Outside Outside `json:"outside"`
	// Ranges in CIDR notation.
	ServiceCIDR string `json:"serviceCIDR"`
	PodCIDR     string `json:"podCIDR"`
	LBCIDR      string `json:"loadBalancerCIDR"`
	DNSIP       string `json:"dnsIP"`
	Domain      string `json:"clusterDomain"`
	NodePorts   string `json:"nodePortRange"`
}

// Node describes one node.
type Node struct {
	Name    string `json:"name"`
	IP      string `json:"ip"`
	PodCIDR string `json:"podCIDR"`
	// NetNS is the node's network namespace file, "" for the node that is
	// this machine: run `nsenter --net=<netns> <command>` to be a client on
	// that node.
	NetNS string `json:"netns,omitempty"`
	// HostIP is this machine's end of the node's link, "" for the node that
	// is this machine. Traffic the host masquerades towards this node
	// leaves with it.
	HostIP string `json:"hostIP,omitempty"`
}

// Outside describes the client outside the cluster.
type Outside struct {
	IP string `json:"ip"`
	// NetNS is a file that pins the namespace, for nsenter --net.
	NetNS string `json:"netns"`
	// LoadBalancer is host:port of the external load balancer that runs
	// there, in front of the nodes' NodePorts.
	LoadBalancer string `json:"loadBalancer,omitempty"`
}

// Marshal renders cluster.json.
func Marshal(f Facts) ([]byte, error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("cluster.json: %w", err)
	}
	return append(b, '\n'), nil
}

// Read reads a facts file. A missing file is os.ErrNotExist: no local
// cluster runs on this machine.
func Read(path string) (Facts, error) {
	var f Facts
	raw, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return f, fmt.Errorf("read cluster facts %s: %w", path, err)
	}
	if f.NodeName == "" {
		return f, fmt.Errorf("read cluster facts %s: no nodeName", path)
	}
	return f, nil
}
