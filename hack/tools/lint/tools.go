//go:build tools

// Package tools pins the linters CI runs, so every machine runs the same ones.
package tools

import (
	_ "github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
)
