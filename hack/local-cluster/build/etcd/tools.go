//go:build tools

// Package tools names the main packages the lab builds from go.etcd.io/etcd/server/v3 v3.6.16, so that
// go mod tidy keeps every module they need. Written by hack/local-cluster/pin.sh.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
)
