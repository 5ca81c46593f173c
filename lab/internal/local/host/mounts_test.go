package host

import (
	"slices"
	"testing"
)

func TestMountsUnderDeepestFirst(t *testing.T) {
	t.Parallel()
	points := []string{"/", "/var/lib/podpaths/local/nodes/a/kubelet/pods/p/volumes/v", "/var/lib/podpaths/local2",
		"/var/lib/podpaths/local/outside.netns", "/var/lib/podpaths/local/nodes/a/kubelet/pods/p/volumes/v/sub", "/proc"}
	got := mountsUnder(points, "/var/lib/podpaths/local/")
	want := []string{"/var/lib/podpaths/local/nodes/a/kubelet/pods/p/volumes/v/sub",
		"/var/lib/podpaths/local/nodes/a/kubelet/pods/p/volumes/v", "/var/lib/podpaths/local/outside.netns"}
	if !slices.Equal(got, want) {
		t.Errorf("mountsUnder: got %v, want %v", got, want)
	}
}

func TestUnescapeMount(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{`/a\040b`: "/a b", `/plain`: "/plain", `/tab\011x`: "/tab\tx", `/trail\04`: `/trail\04`} {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
}
