//go:build tools

// Package compose pins the docker compose v2 CLI plugin that hack/compose-plugin.sh builds when
// `docker compose` is missing. `go install github.com/docker/compose/v2/cmd@v2.40.3` is refused because
// compose's go.mod has exclude directives; requiring it from this small module and building the package
// from here works, and go.sum keeps the build reproducible.
package tools

import _ "github.com/docker/compose/v2/cmd"
