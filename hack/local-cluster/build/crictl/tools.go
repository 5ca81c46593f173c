//go:build tools

// Package tools names the main packages the lab builds from sigs.k8s.io/cri-tools v1.37.0, so that
// go mod tidy keeps every module they need. Written by hack/local-cluster/pin.sh.
package tools

import (
	_ "sigs.k8s.io/cri-tools/cmd/crictl"
)
