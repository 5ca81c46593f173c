package main

import (
	"testing"
	"time"
)

func TestCheckLoopback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url    string
		wantOK bool
	}{
		{"http://127.0.0.1:8080/whoami", true},
		{"http://localhost:3000/api/paths", true},
		{"http://[::1]:80/", true},
		{"http://10.96.0.1/", false},
		{"http://example.com/", false},
		{"not a url", false},
	}
	for _, tt := range tests {
		if err := checkLoopback(tt.url); (err == nil) != tt.wantOK {
			t.Errorf("checkLoopback(%q) = %v, want ok=%v", tt.url, err, tt.wantOK)
		}
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	lat := []time.Duration{1 * time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 4 * time.Millisecond, 100 * time.Millisecond}
	if got := percentile(lat, 0.5); got != 3 {
		t.Errorf("p50 of %v = %v ms, want 3", lat, got)
	}
	if got := percentile(lat, 0.99); got != 4 {
		t.Errorf("p99 of %v = %v ms, want 4 (nearest rank below)", lat, got)
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("p50 of nothing = %v, want 0", got)
	}
}
