package podstore

import (
	"reflect"
	"testing"

	"k8s.io/client-go/kubernetes/fake"
)

func TestNewWatchesOnlyTheGivenNamespaces(t *testing.T) {
	for _, tc := range []struct {
		namespaces []string
		want       []string
		informers  int // one pod informer and one Event informer per reason, per namespace
	}{
		{nil, []string{""}, 1 + len(EventReasons)},
		{[]string{"shop", "billing", "shop"}, []string{"billing", "shop"}, 2 * (1 + len(EventReasons))},
	} {
		s, err := New(fake.NewClientset(), tc.namespaces...)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Namespaces(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("New(%q).Namespaces() = %q, want %q", tc.namespaces, got, tc.want)
		}
		if got := len(s.informers()); got != tc.informers {
			t.Errorf("New(%q) has %d informers, want %d", tc.namespaces, got, tc.informers)
		}
		if s.podIndexer("elsewhere") != nil && len(tc.namespaces) > 0 {
			t.Errorf("New(%q) has a pod indexer for a namespace it does not watch", tc.namespaces)
		}
	}
}
