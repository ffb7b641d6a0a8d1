#!/usr/bin/env bash
# Checks that the real node left nothing on the host.
#   hack/check-host-clean.sh record FILE   writes what the check compares (run it before make cluster-up NODE=real)
#   hack/check-host-clean.sh check FILE    after make cluster-down: fails, saying what differs, unless the host is
#                                          as recorded and has no trace of a real node
# Compared: the sysctls the kubelet and the bridge plugin set, iptables/ip6tables chains and rules (KUBE-*, CNI-*),
# kubepods cgroups, network links, mounts under LOCAL_DIR, the paths outside it that the node creates, and
# leftover containerd shims.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=hack/lib.sh
source "$root/hack/lib.sh"

snapshot() {
  local s p
  for s in "${NODE_SYSCTLS[@]}"; do echo "sysctl $s=$(sysctl -n "$s")"; done
  for s in iptables ip6tables; do
    # Without the tool (node-up installs it) there are no rules of ours: 0, so that the install is no difference.
    n=0
    if command -v "$s-save" >/dev/null; then n=$("$s-save" 2>/dev/null | grep -cE 'KUBE-|CNI-' || true); fi
    echo "$s KUBE/CNI lines: $n"
  done
  echo "kubepods cgroups: $(find /sys/fs/cgroup -maxdepth 3 -name kubepods 2>/dev/null | sort | tr '\n' ' ')"
  echo "links: $(ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sort | tr '\n' ' ')"
  echo "mounts under $LOCAL_DIR: $(awk -v d="$LOCAL_DIR/" 'index($2, d) == 1 {print $2}' /proc/mounts | tr '\n' ' ')"
  for p in "${NODE_GLOBAL_PATHS[@]}" /var/lib/kubelet /run/containerd /run/netns; do
    if [[ -e "$p" ]]; then echo "path $p: exists"; else echo "path $p: absent"; fi
  done
  echo "containerd shims: $(pgrep -c -f containerd-shim-runc-v2 || true)"
}

mode=${1:-}
file=${2:-}
[[ ( "$mode" == record || "$mode" == check ) && -n "$file" ]] || {
  echo "usage: $0 record|check FILE" >&2
  exit 2
}
if [[ "$mode" == record ]]; then
  snapshot >"$file"
  echo "Recorded the host's state in $file:"
  sed 's/^/  /' "$file"
  exit 0
fi
[[ -f "$file" ]] || { echo "$file: no record (run '$0 record $file' before cluster-up)" >&2; exit 2; }
now=$(snapshot)
bad=0
if ! diff <(cat "$file") <(echo "$now") >/dev/null; then
  echo "The host differs from the record in $file (< before, > now):"
  diff <(cat "$file") <(echo "$now") || true
  bad=1
fi
# Absolute checks, whatever was recorded.
grep -q "^links: .*\b$NODE_BRIDGE\b" <<<"$now" && { echo "the bridge $NODE_BRIDGE exists"; bad=1; }
grep -q '^kubepods cgroups: ./' <<<"$now" && { echo "kubepods cgroups exist"; bad=1; }
grep -q "^mounts under $LOCAL_DIR: ./" <<<"$now" && { echo "something is mounted under $LOCAL_DIR"; bad=1; }
if ((bad)); then
  echo "FAIL: the host is not clean" >&2
  exit 1
fi
echo "OK: the host is as recorded in $file:"
sed 's/^/  /' <<<"$now"
