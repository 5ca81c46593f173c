// Command backend is the API behind the frontend. It runs in a StatefulSet pod
// next to its sidecar, which it calls over localhost, and finds its siblings
// through the headless Service.
package main

import (
	"os"

	"github.com/podpaths/podpaths/platform/serve"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

const service = "backend"

func main() {
	os.Exit(serve.Main(service, version, loadConfig, start))
}
