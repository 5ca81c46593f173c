package discovery_test

import (
	"net"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/podpaths/podpaths/platform/discovery"
)

func TestEndpoints(t *testing.T) {
	t.Parallel()
	srv := func(target string, port uint16) *net.SRV { return &net.SRV{Target: target, Port: port, Weight: 100} }
	tests := []struct {
		name string
		in   []*net.SRV
		want []discovery.Endpoint
	}{
		{name: "nil", in: nil, want: []discovery.Endpoint{}},
		{name: "one", in: []*net.SRV{srv(pod0+".", 8080)},
			want: []discovery.Endpoint{{Name: pod0, Pod: "backend-0", Port: 8080}}},
		{name: "sorted by name", in: []*net.SRV{srv(pod2+".", 8080), srv(pod0+".", 8080), srv(pod1+".", 8080)},
			want: []discovery.Endpoint{
				{Name: pod0, Pod: "backend-0", Port: 8080},
				{Name: pod1, Pod: "backend-1", Port: 8080},
				{Name: pod2, Pod: "backend-2", Port: 8080},
			}},
		{name: "duplicates dropped, first port kept", in: []*net.SRV{srv(pod1+".", 8080), srv(pod1, 9090), srv(pod1+".", 8080)},
			want: []discovery.Endpoint{{Name: pod1, Pod: "backend-1", Port: 8080}}},
		{name: "target without trailing dot", in: []*net.SRV{srv(pod0, 8080)},
			want: []discovery.Endpoint{{Name: pod0, Pod: "backend-0", Port: 8080}}},
		{name: "malformed and unusable records skipped", in: []*net.SRV{
			nil,
			srv(pod0+".", 0),              // port 0 cannot be dialled
			srv("", 8080),                 // empty target
			srv(".", 8080),                // the root
			srv("backend-0.", 8080),       // a single label names no pod of a Service
			srv(".backend-headless.", 80), // empty first label
			srv(pod1+".", 8080),
		}, want: []discovery.Endpoint{{Name: pod1, Pod: "backend-1", Port: 8080}}},
		{name: "only unusable", in: []*net.SRV{nil, srv("", 0)}, want: []discovery.Endpoint{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := discovery.Endpoints(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Endpoints(%s) = %+v, want %+v", describeSRV(tt.in), got, tt.want)
			}
		})
	}
}

// describeSRV prints SRV records readably: %v of []*net.SRV shows pointers.
func describeSRV(srvs []*net.SRV) string {
	parts := make([]string, 0, len(srvs))
	for _, r := range srvs {
		if r == nil {
			parts = append(parts, "nil")
			continue
		}
		parts = append(parts, r.Target+":"+strconv.Itoa(int(r.Port)))
	}
	return "[" + strings.Join(parts, " ") + "]"
}
