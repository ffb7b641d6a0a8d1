package testutil

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

var namespaceSeq atomic.Int64

// NamespaceName returns a namespace name for one test, unique in the process: the test's name, made a valid DNS
// label, and a sequence number.
func NamespaceName(t testing.TB) string {
	name := fmt.Sprintf("%s-%d", strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())), namespaceSeq.Add(1))
	if len(name) > 63 {
		name = strings.TrimLeft(name[len(name)-63:], "-")
	}
	return name
}
