//go:build tools

// Package tools names the flannel CNI plugin, which CI's kind node image builds from
// github.com/containernetworking/plugins, so that go mod tidy keeps every module it needs.
package tools

import _ "github.com/containernetworking/plugins/plugins/meta/flannel"
