#!/usr/bin/env bash
# Loads a static Go binary as an image into the running real node (make cluster-up NODE=real), without Docker or a
# registry: hack/node-image.sh NAME BINARY [USER], e.g. the manager as the image config/manager names:
#   hack/node-image.sh ghcr.io/probetuner/probe-tuner:latest bin/manager-linux 65532:65532
# An image of that name is replaced; pods using it need imagePullPolicy IfNotPresent or Never.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=hack/lib.sh
source "$root/hack/lib.sh"

if (($# < 2)); then
  echo "usage: hack/node-image.sh NAME BINARY [UID[:GID]]" >&2
  exit 2
fi
running containerd || { echo "no real node runs with LOCAL_DIR=$LOCAL_DIR (make cluster-up NODE=real)" >&2; exit 1; }
node_import_image "$1" "$2" "${3:-}"
echo "  image $1: imported from $2"
