//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/podpaths/podpaths/lab/matrix"
	"github.com/podpaths/podpaths/platform/report"
)

// TestMatrix runs `make check`'s reachability matrix (lab/matrix) and makes
// each of its checks an assertion: every path from outside, and every path
// the pods report from inside, judged against its expectation.
func TestMatrix(t *testing.T) {
	r := begin(t, 2*time.Minute)
	res, err := matrix.New(r.env.Client, r.matrixConfig()).Run(r.ctx)
	if err != nil {
		t.Fatalf("run the matrix: %v", err)
	}
	var b strings.Builder
	if err := res.Write(&b); err != nil {
		t.Fatal(err)
	}
	t.Logf("matrix through %s:\n%s", res.Entry, b.String())
	for _, c := range res.Checks() {
		t.Run(c.ID, func(t *testing.T) {
			switch c.Outcome() {
			case report.OutcomeSkip:
				t.Skipf("%s", matrix.Line(c))
			case report.OutcomeFail:
				t.Errorf("%s (action %q)", matrix.Line(c), c.Action)
			}
		})
	}
}
