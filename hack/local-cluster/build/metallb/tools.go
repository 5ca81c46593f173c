//go:build tools

// Package tools names the main packages the lab builds from go.universe.tf/metallb v0.15.2, so that
// go mod tidy keeps every module they need. Written by hack/local-cluster/pin.sh.
package tools

import (
	_ "go.universe.tf/metallb/controller"
)
