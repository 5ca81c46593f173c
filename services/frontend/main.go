// Command frontend serves the podpaths dashboard and the path report. It sits
// behind nginx in its pod and listens on loopback only: the browser reaches it
// through nginx, never directly.
package main

import (
	"os"

	"github.com/podpaths/podpaths/platform/serve"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

const service = "frontend"

func main() {
	os.Exit(serve.Main(service, version, loadConfig, start))
}
