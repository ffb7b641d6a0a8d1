#!/usr/bin/env bash
# Stops exactly the processes cluster-up.sh started (by their recorded pids) and removes the local state.
# KEEP_LOGS=1 keeps $LOCAL_DIR/logs (a failed demo or test points at them) and removes everything else.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=hack/lib.sh
source "$root/hack/lib.sh"

if [[ ! -d "$LOCAL_DIR" ]]; then
  echo "No local control plane state at $LOCAL_DIR: nothing to stop."
  exit 0
fi
# The real node first (when one ran, whatever NODE says now): it gives the host back what it changed.
node_ok=1
if [[ -d "$LOCAL_DIR/run/host" || -f "$LOCAL_DIR/run/kubelet.pid" || -f "$LOCAL_DIR/run/containerd.pid" ]]; then
  "$root/hack/node-down.sh" || node_ok=0
fi
for name in simkubelet kube-scheduler kube-controller-manager kube-apiserver etcd; do
  stop "$name"
done
if ((node_ok == 0)); then
  echo "The local control plane is stopped, but the real node left something behind (above): $LOCAL_DIR is kept; fix it and run make cluster-down again." >&2
  exit 1
fi
# Never remove through a mount point.
if [[ -n "$(awk -v d="$(cd "$LOCAL_DIR" && pwd -P)/" 'index($2, d) == 1' /proc/mounts)" ]]; then
  echo "Something is still mounted under $LOCAL_DIR: not removing it." >&2
  exit 1
fi
if [[ "${KEEP_LOGS:-}" == 1 ]]; then
  find "$LOCAL_DIR" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
  echo "The local control plane is stopped; its state is removed, its logs kept in $LOCAL_DIR/logs."
  exit 0
fi
rm -rf "$LOCAL_DIR"
echo "The local control plane is stopped and $LOCAL_DIR removed."
