// Package testutil holds helpers shared by probe-tuner's test packages.
package testutil

import (
	"testing"
	"time"
)

// Eventually polls cond every poll until it returns nil, and fails the test with cond's last error once timeout
// has passed.
func Eventually(t testing.TB, timeout, poll time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %v", timeout, err)
		}
		time.Sleep(poll)
	}
}
