package main

import (
	"reflect"
	"testing"
)

func TestSplitNamespaces(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"shop", []string{"shop"}},
		{" shop, billing ,,shop", []string{"shop", "billing"}},
	} {
		if got := splitNamespaces(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitNamespaces(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
