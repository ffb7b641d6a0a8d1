package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math/rand/v2"

	"k8s.io/apimachinery/pkg/types"
)

// hash64 hashes the parts with FNV-1a; the separator keeps ("ab","c") and
// ("a","bc") apart.
func hash64(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64()
}

// newRand returns a PCG generator seeded from the world seed and a stream name,
// so that every pod and container has its own random stream: adding a pod does
// not change the numbers drawn by any other pod.
func newRand(seed uint64, stream ...string) *rand.Rand {
	return rand.New(rand.NewPCG(seed, hash64(stream...)))
}

// digest returns the hex SHA-256 of the formatted parts.
func digest(format string, args ...any) string {
	sum := sha256.Sum256(fmt.Appendf(nil, format, args...))
	return hex.EncodeToString(sum[:])
}

// podUID derives a stable, UUID-shaped UID for a pod that has none.
func podUID(seed uint64, namespace, name string) types.UID {
	sum := sha256.Sum256(fmt.Appendf(nil, "uid/%d/%s/%s", seed, namespace, name))
	b := sum[:16]
	b[6] = (b[6] & 0x0f) | 0x40 // version 4 layout
	b[8] = (b[8] & 0x3f) | 0x80
	return types.UID(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

// containerID returns the runtime ID of the n-th instance of a container.
func containerID(seed uint64, uid types.UID, container string, n int32) string {
	return "containerd://" + digest("cid/%d/%s/%s/%d", seed, uid, container, n)
}

// imageID returns a stable digest reference for an image.
func imageID(image string) string {
	name := image
	for i := len(image) - 1; i >= 0; i-- {
		if image[i] == '@' {
			return image
		}
		if image[i] == '/' {
			break
		}
		if image[i] == ':' {
			name = image[:i]
			break
		}
	}
	return name + "@sha256:" + digest("image/%s", image)
}

// imageSize returns a stable pseudo size (20-220 MB) for pull events.
func imageSize(image string) uint64 {
	sum := sha256.Sum256([]byte(image))
	return 20_000_000 + binary.BigEndian.Uint64(sum[:8])%200_000_000
}

// suffixAlphabet is the alphabet Kubernetes uses for generated name suffixes
// (no vowels, no easily confused characters).
const suffixAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// randomSuffix returns n characters from suffixAlphabet.
func randomSuffix(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = suffixAlphabet[r.IntN(len(suffixAlphabet))]
	}
	return string(b)
}
