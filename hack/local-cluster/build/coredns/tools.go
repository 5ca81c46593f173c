//go:build tools

// Package tools names the main packages the lab builds from github.com/coredns/coredns v1.14.7, so that
// go mod tidy keeps every module they need. Written by hack/local-cluster/pin.sh.
package tools

import (
	_ "github.com/coredns/coredns"
)
