#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kube-controller-manager from the Go module proxy into $1 (default bin/k8s).
# A binary built from the same module graph and sources (recorded in a stamp file) is kept: re-running is cheap.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-"$root/bin/k8s"}
mod="$root/hack/controlplane"
mkdir -p "$out"

# shellcheck source=hack/lib.sh
source "$root/hack/lib.sh"
k8s_version=$(awk '$1 == "k8s.io/kubernetes" {print $2}' "$mod/go.mod" | head -n1)
ldflags=$(k8s_ldflags "$mod")

# stamp prints a fingerprint of everything a binary is built from: the module graph and the module's own sources.
stamp() {
  (cd "$mod" && cat go.mod go.sum && find . -name '*.go' -print0 | sort -z | xargs -0 cat) | sha256sum | cut -d' ' -f1
}

build() {
  stamped_go_build "$out" "$1" "$(stamp) $k8s_version" "$mod" "$2" "$ldflags" "a cold build takes several minutes on 2 cores"
}

echo "Building the local control plane ($k8s_version) into $out"
(cd "$mod" && go mod download)
build etcd ./cmd/etcd
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
build kubectl k8s.io/kubernetes/cmd/kubectl
build localpki ./cmd/localpki
