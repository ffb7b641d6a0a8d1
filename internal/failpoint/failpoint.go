// Package failpoint lets the end-to-end fault tests kill the manager at an exact point of its work, where a
// SIGKILL from outside could only land by chance. It is inert unless the environment variable
// PROBETUNER_FAILPOINT names a point; nobody sets it in production.
package failpoint

import (
	"os"
	"syscall"
)

// Points.
const (
	// AfterDeploymentWrite is right after a Deployment was written, before the decision is recorded anywhere
	// else (Events, status, checkpoint).
	AfterDeploymentWrite = "after-deployment-write"
)

// EnvVar names the point at which the process kills itself.
const EnvVar = "PROBETUNER_FAILPOINT"

var armed = os.Getenv(EnvVar)

// Kill sends SIGKILL to the process itself when point is armed: no deferred function, no graceful shutdown runs,
// exactly as when the node or the OOM killer stops it.
func Kill(point string) {
	if armed != "" && armed == point {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is delivered asynchronously; do nothing more meanwhile
	}
}
