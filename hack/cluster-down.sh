#!/usr/bin/env bash
# Stops exactly the processes cluster-up.sh started (by their recorded pids) and removes the local state.
# KEEP_LOGS=1 keeps $LOCAL_DIR/logs (a failed demo or test points at them) and removes everything else.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=hack/lib.sh
source "$root/hack/lib.sh"

stop() {
  local name=$1 pid
  running "$name" || return 0
  pid=$(cat "$LOCAL_DIR/run/$name.pid")
  echo "  $name: stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    running "$name" || return 0
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
}

if [[ ! -d "$LOCAL_DIR" ]]; then
  echo "No local control plane state at $LOCAL_DIR: nothing to stop."
  exit 0
fi
for name in simkubelet kube-controller-manager kube-apiserver etcd; do
  stop "$name"
done
if [[ "${KEEP_LOGS:-}" == 1 ]]; then
  find "$LOCAL_DIR" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
  echo "The local control plane is stopped; its state is removed, its logs kept in $LOCAL_DIR/logs."
  exit 0
fi
rm -rf "$LOCAL_DIR"
echo "The local control plane is stopped and $LOCAL_DIR removed."
