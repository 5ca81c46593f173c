package serve

import (
	"net/http"

	"github.com/podpaths/podpaths/platform/identity"
	"github.com/podpaths/podpaths/platform/report"
)

// Whoami answers GET /whoami, the same on every service: self, as the
// caller of the request sees it.
func Whoami(self report.Identity) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		JSON(w, http.StatusOK, identity.ForRequest(self, r))
	}
}
