package simkubelet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/retry"
)

// idHex returns a stable 32-hex-digit identifier derived from s (machine and boot IDs of the fake nodes).
func idHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// fullHex returns the 64-hex-digit SHA-256 of s (container IDs).
func fullHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// retryOnConflict runs fn until it does not fail with a conflict, a few times at most, or until ctx ends.
func retryOnConflict(ctx context.Context, fn func() error) error {
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn()
	})
}

// podKey is the namespace/name key of a pod, as the informer caches use it.
func podKey(namespace, name string) string { return namespace + "/" + name }

// newerPod returns whichever of a and b has the higher resourceVersion (etcd revisions are numbers); b when the
// versions cannot be compared. Either may be nil.
func newerPod(a, b *corev1.Pod) *corev1.Pod {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	ra, errA := strconv.ParseUint(a.ResourceVersion, 10, 64)
	rb, errB := strconv.ParseUint(b.ResourceVersion, 10, 64)
	if errA == nil && errB == nil && ra > rb {
		return a
	}
	return b
}
