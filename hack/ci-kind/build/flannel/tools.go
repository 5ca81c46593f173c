//go:build tools

// Package tools names the main package CI's kind node image builds from github.com/flannel-io/flannel,
// so that go mod tidy keeps every module it needs.
package tools

import _ "github.com/flannel-io/flannel"
