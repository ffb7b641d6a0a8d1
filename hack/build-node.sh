#!/usr/bin/env bash
# Builds what the real node (make cluster-up NODE=real) needs into $1 (default bin/k8s-node):
#   kubelet and kube-scheduler from the hack/controlplane module (the same k8s.io/kubernetes version as
#   the control plane), containerd, containerd-shim-runc-v2 and ctr from the Go module proxy, and the image tools
#   of hack/nodeimages (ociimage, pause, probe-target; probe-target with test/harness/sim/behavior).
# A binary built from the same inputs (recorded in a stamp file) is kept: re-running is cheap.
# None of it touches the operator's go.mod.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-"$root/bin/k8s-node"}
mod="$root/hack/controlplane"
images="$root/hack/nodeimages"
CONTAINERD_VERSION=${CONTAINERD_VERSION:-v2.4.2}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# shellcheck source=hack/lib.sh
source "$root/hack/lib.sh"
k8s_version=$(awk '$1 == "k8s.io/kubernetes" {print $2}' "$mod/go.mod" | head -n1)
ldflags=$(k8s_ldflags "$mod")

# fingerprint DIR prints a hash of a module's go.mod, go.sum and Go sources.
fingerprint() {
  (cd "$1" && cat go.mod && { cat go.sum 2>/dev/null || true; } && find . -name '*.go' -print0 | sort -z | xargs -0 cat) |
    sha256sum | cut -d' ' -f1
}

# fresh NAME WANT succeeds when NAME is built and its stamp says WANT.
fresh() {
  [[ -x "$out/$1" && -f "$out/.$1.stamp" && "$(cat "$out/.$1.stamp")" == "$2" ]]
}

build_k8s() {
  stamped_go_build "$out" "$1" "$(fingerprint "$mod") $k8s_version" "$mod" "$2" "$ldflags" "about 1 min with a warm build cache, several cold"
}

build_containerd() {
  local want="containerd $CONTAINERD_VERSION no_btrfs,no_devmapper,no_zfs" name missing=0
  for name in containerd containerd-shim-runc-v2 ctr; do fresh "$name" "$want" || missing=1; done
  if ((missing == 0)); then echo "  containerd, containerd-shim-runc-v2, ctr: up to date ($CONTAINERD_VERSION)"; return; fi
  echo "  containerd $CONTAINERD_VERSION: building containerd, containerd-shim-runc-v2, ctr (1-2 min)..."
  local start=$SECONDS tmp
  tmp=$(mktemp -d "$out/.gobin.XXXXXX")
  CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS=-buildvcs=false go install -trimpath -ldflags "-s -w" \
    -tags "no_btrfs no_devmapper no_zfs" \
    "github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/ctr@$CONTAINERD_VERSION"
  for name in containerd containerd-shim-runc-v2 ctr; do
    mv "$tmp/$name" "$out/$name"
    echo "$want" >"$out/.$name.stamp"
  done
  rmdir "$tmp"
  echo "  containerd: built in $((SECONDS - start))s"
}

build_image_tools() {
  local want name
  # probe-target imports the simulator's annotation parser from the operator module: its sources count too.
  want="$(fingerprint "$images") $(cat "$root"/test/harness/sim/behavior/*.go | sha256sum | cut -d" " -f1)"
  for name in ociimage pause probe-target; do
    if fresh "$name" "$want"; then echo "  $name: up to date"; continue; fi
    # Static binaries: they run alone in their images.
    (cd "$images" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/$name.tmp" "./cmd/$name")
    mv "$out/$name.tmp" "$out/$name"
    echo "$want" >"$out/.$name.stamp"
    echo "  $name: built"
  done
}

echo "Building the real node's binaries ($k8s_version, containerd $CONTAINERD_VERSION) into $out"
only=${ONLY:-all}
if [[ $only == all || $only == k8s ]]; then
  (cd "$mod" && go mod download)
  build_k8s kubelet k8s.io/kubernetes/cmd/kubelet
  build_k8s kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler
fi
if [[ $only == all || $only == containerd ]]; then build_containerd; fi
if [[ $only == all || $only == images ]]; then build_image_tools; fi
