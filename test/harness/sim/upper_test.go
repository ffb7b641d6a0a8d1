package sim

import (
	"testing"
	"time"
)

func TestDistributionUpper(t *testing.T) {
	cases := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"45s", 45 * time.Second, true},
		{"0", 0, true},
		{"40s-50s", 50 * time.Second, true},
		{"lognormal(30s,120s)", 120 * time.Second, true},
		{"mix(0.7:5s-8s,0.3:50s-70s)", 70 * time.Second, true},
		{"mix(0.5:lognormal(1s,3m),0.5:10s)", 3 * time.Minute, true},
		{"never", 0, false},
		{"mix(0.9:5s,0.1:never)", 0, false},
	}
	for _, tc := range cases {
		d, err := ParseDistribution(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		got, ok := d.Upper()
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("Upper(%s) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}
