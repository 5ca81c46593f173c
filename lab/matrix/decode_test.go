package matrix

import (
	"testing"

	"github.com/podpaths/podpaths/platform/report"
)

func TestDecodeIdentity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		body       string
		wantErr    bool
		wantPod    string
		wantClient string
	}{
		{
			name:       "client ip only",
			body:       `{"service":"frontend","pod":"frontend-a","pod_ip":"10.244.1.5","node":"w1","client_ip":"10.244.1.1"}`,
			wantPod:    "frontend-a",
			wantClient: "10.244.1.1",
		},
		{
			name:       "X-Real-IP from nginx wins over client_ip",
			body:       `{"pod":"frontend-a","client_ip":"127.0.0.1","forwarded":{"x-real-ip":"172.18.0.1","x-forwarded-for":"172.18.0.1"}}`,
			wantPod:    "frontend-a",
			wantClient: "172.18.0.1",
		},
		{name: "no pod", body: `{"service":"frontend"}`, wantErr: true},
		{name: "not json", body: `<html>`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var p report.Path
			err := decodeIdentity([]byte(tt.body), &p)
			if (err != nil) != tt.wantErr {
				t.Fatalf("decodeIdentity(%s): got err %v, want error %v", tt.body, err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if p.AnsweredBy == nil || p.AnsweredBy.Pod != tt.wantPod || p.ClientIPSeen != tt.wantClient {
				t.Errorf("decodeIdentity(%s): got %+v client %q, want pod %q client %q", tt.body, p.AnsweredBy, p.ClientIPSeen, tt.wantPod, tt.wantClient)
			}
		})
	}
}

func TestSpread(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		body       string
		ready      int
		wantDetail string
		wantErr    bool
	}{
		{
			name:       "spread over all",
			body:       `{"service":"backend","method":"dns","n":20,"keepalive":false,"pods":[{"pod":"backend-1","node":"w2","count":6},{"pod":"backend-0","node":"w1","count":7},{"pod":"backend-2","node":"w1","count":7}],"errors":{}}`,
			ready:      3,
			wantDetail: "backend-0=7 backend-1=6 backend-2=7 (3 ready)",
		},
		{name: "two of three is enough", body: `{"n":20,"pods":[{"pod":"backend-0","count":19},{"pod":"backend-2","count":1}]}`, ready: 3, wantDetail: "backend-0=19 backend-2=1 (3 ready)"},
		{name: "one replica ready", body: `{"n":20,"pods":[{"pod":"backend-0","count":20}]}`, ready: 1, wantDetail: "backend-0=20 (1 ready)"},
		{name: "ready unknown", body: `{"n":20,"pods":[{"pod":"backend-0","count":20}]}`, ready: -1, wantDetail: "backend-0=20"},
		{name: "stuck on one of three", body: `{"n":20,"pods":[{"pod":"backend-0","count":20}]}`, ready: 3, wantDetail: "backend-0=20 (3 ready)", wantErr: true},
		{
			name:       "failed calls",
			body:       `{"n":20,"pods":[{"pod":"backend-0","count":10},{"pod":"backend-1","count":7}],"errors":{"timeout":1,"refused":2}}`,
			ready:      2,
			wantDetail: "backend-0=10 backend-1=7 refused=2 timeout=1 (2 ready)",
			wantErr:    true,
		},
		{name: "every call failed", body: `{"n":20,"pods":[],"errors":{"refused":20}}`, ready: 0, wantDetail: "refused=20 (0 ready)", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := report.DecodeSpread([]byte(tt.body))
			if err != nil {
				t.Fatalf("DecodeSpread(%s): %v", tt.body, err)
			}
			detail, err := judgeSpread(s, tt.ready)
			if detail != tt.wantDetail || (err != nil) != tt.wantErr {
				t.Errorf("judgeSpread(%s, %d): got %q, %v; want %q, error %v", tt.body, tt.ready, detail, err, tt.wantDetail, tt.wantErr)
			}
		})
	}
}
