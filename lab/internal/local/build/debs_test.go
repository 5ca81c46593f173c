package build

import (
	"slices"
	"testing"
)

func TestMissingPackages(t *testing.T) {
	t.Parallel()
	out := "containerd installed\ncontainernetworking-plugins not-installed\niproute2 installed\nrunc config-files\n"
	got := missingPackages(out, []string{"containerd", "runc", "containernetworking-plugins", "conntrack", "iproute2"})
	if want := []string{"runc", "containernetworking-plugins", "conntrack"}; !slices.Equal(got, want) {
		t.Errorf("missingPackages: got %v, want %v", got, want)
	}
}
