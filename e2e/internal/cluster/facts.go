package cluster

import (
	"encoding/json"
	"fmt"
	"os"
)

// Facts is what the local provider writes about the offline cluster it
// started (cluster.json, lab/internal/local): its nodes, its cluster domain
// and the outside client's network namespace.
type Facts struct {
	Name  string `json:"name"`
	Nodes []struct {
		Name string `json:"name"`
		IP   string `json:"ip"`
		// NetNS is the node's network namespace file; "" for the node that
		// is this machine.
		NetNS string `json:"netns"`
		// HostIP is this machine's end of the node's link, "" for the node
		// that is this machine.
		HostIP string `json:"hostIP"`
	} `json:"nodes"`
	// NodeName is the first node, which runs the control plane.
	NodeName string `json:"nodeName"`
	Outside  struct {
		IP string `json:"ip"`
		// NetNS is a file that pins the namespace, for nsenter --net.
		NetNS string `json:"netns"`
	} `json:"outside"`
	Domain string `json:"clusterDomain"`
}

// ReadFacts reads a facts file. A missing file is os.ErrNotExist: the
// cluster is then not the local one, which is fine.
func ReadFacts(path string) (Facts, error) {
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
