package discovery_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/podpaths/podpaths/platform/discovery"
	"github.com/podpaths/podpaths/platform/report"
)

func TestParseMethods(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []report.Method
		wantErr string
	}{
		{in: "env,dns,headless", want: []report.Method{report.MethodEnv, report.MethodDNS, report.MethodHeadless}},
		{in: " static , localhost ", want: []report.Method{report.MethodStatic, report.MethodLocalhost}},
		{in: "dns", want: []report.Method{report.MethodDNS}},
		{in: "headless,env", want: []report.Method{report.MethodHeadless, report.MethodEnv}},
		{in: "env,carrier-pigeon", wantErr: `"carrier-pigeon"`},
		{in: "ENV", wantErr: `"ENV"`},
		{in: "env,,dns", wantErr: `""`},
		{in: "", wantErr: `""`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := discovery.ParseMethods(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || got != nil {
					t.Errorf("ParseMethods(%q) = %v, %v, want nil and an error naming %s", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("ParseMethods(%q) = %v, %v, want %v, nil", tt.in, got, err, tt.want)
			}
		})
	}
}
