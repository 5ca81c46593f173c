package local

import (
	"testing"

	"github.com/podpaths/podpaths/lab/internal/local/cluster"
)

func TestNodeCount(t *testing.T) {
	t.Parallel()
	env := func(v string) func(string) string { return func(string) string { return v } }
	for _, tt := range []struct {
		opt  int
		env  string
		want int
		err  bool
	}{{0, "", cluster.DefaultNodes, false}, {0, "1", 1, false}, {1, "2", 1, false}, {0, "two", 0, true}} {
		got, err := nodeCount(tt.opt, env(tt.env))
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("nodeCount(%d, %q) = %d, %v; want %d, error %t", tt.opt, tt.env, got, err, tt.want, tt.err)
		}
	}
}
