// Command sidecar runs next to the backend in its pod. Its app port listens on
// loopback only, so the backend reaches it over localhost and no other pod can
// reach it at all, even at the pod's IP.
package main

import (
	"os"

	"github.com/podpaths/podpaths/platform/serve"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

const service = "sidecar"

func main() {
	os.Exit(serve.Main(service, version, loadConfig, start))
}
