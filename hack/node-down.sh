#!/usr/bin/env bash
# Stops the real node and gives the host back what node-up.sh changed (called by cluster-down.sh): kills the
# containers and processes it started (by recorded pid), unmounts everything under $LOCAL_DIR, deletes the bridge,
# the iptables chains the kubelet and the CNI plugins made, the kubepods cgroups, the paths outside $LOCAL_DIR
# that did not exist before, and restores the recorded sysctls. Works after a crash: it only needs $HOST_STATE.
# It never remounts cgroups and touches nothing it did not record or create.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=hack/lib.sh
source "$root/hack/lib.sh"

CTRD=$LOCAL_DIR/containerd
problems=0
warn() {
  echo "  node-down: $*" >&2
  problems=$((problems + 1))
}

# 1. The kubelet first, so that it restarts nothing, then every container and sandbox through containerd.
stop kubelet 75
if running containerd; then
  tasks=$(node_ctr tasks ls -q 2>/dev/null || true)
  if [[ -n "$tasks" ]]; then
    echo "  containers: killing $(wc -w <<<"$tasks")"
    for t in $tasks; do node_ctr tasks kill -a -s SIGKILL "$t" >/dev/null 2>&1 || true; done
    # containerd's CRI plugin deletes a task once it exited; delete what it left (force) until none is listed.
    for _ in $(seq 1 50); do
      tasks=$(node_ctr tasks ls -q 2>/dev/null || true)
      [[ -n "$tasks" ]] || break
      sleep 0.2
      for t in $tasks; do node_ctr tasks delete -f "$t" >/dev/null 2>&1 || true; done
    done
    [[ -z "$tasks" ]] || warn "containerd still lists tasks: $tasks"
  fi
  for c in $(node_ctr containers ls -q 2>/dev/null || true); do node_ctr containers delete "$c" >/dev/null 2>&1 || true; done
fi
stop containerd 75

# Shims that outlived containerd (a crash): only those started for this containerd (its socket in their cmdline).
for proc in /proc/[0-9]*; do
  cmd=$(tr '\0' ' ' 2>/dev/null <"$proc/cmdline" || true)
  if [[ "$cmd" == *containerd-shim-runc-v2*"$CTRD/containerd.sock"* ]]; then
    echo "  shim: killing leftover pid ${proc#/proc/}"
    kill -KILL "${proc#/proc/}" 2>/dev/null || true
  fi
done
# Container processes left in the kubepods cgroups (after a crash): kill them by pid. Only when this node recorded
# the host (node-up refuses to start when kubepods cgroups exist, so then they are all ours).
if [[ -f "$HOST_STATE/complete" ]]; then
  for procs in /sys/fs/cgroup/*/kubepods/cgroup.procs /sys/fs/cgroup/kubepods/cgroup.procs; do
    [[ -e "$procs" ]] || continue
    find "$(dirname "$procs")" -name cgroup.procs -print0 | while IFS= read -r -d '' f; do
      while read -r pid; do
        echo "  container process: killing leftover pid $pid (in ${f%/cgroup.procs})"
        kill -KILL "$pid" 2>/dev/null || true
      done <"$f"
    done
  done
fi

# 2. Mounts under LOCAL_DIR (rootfs overlays, shm, netns, volumes), deepest first, until none is left.
if [[ -d "$LOCAL_DIR" ]]; then
  local_real=$(cd "$LOCAL_DIR" && pwd -P)
  for _ in 1 2 3 4 5; do
    mounts=$(awk -v d="$local_real/" 'index($2, d) == 1 {print $2}' /proc/mounts | awk '{print length, $0}' | sort -rn | cut -d' ' -f2-)
    [[ -n "$mounts" ]] || break
    while read -r m; do
      umount "$m" 2>/dev/null || true
    done <<<"$mounts"
    sleep 0.2
  done
  left=$(awk -v d="$local_real/" 'index($2, d) == 1 {print $2}' /proc/mounts)
  [[ -z "$left" ]] || warn "still mounted under $LOCAL_DIR: $left"
fi

if [[ ! -f "$HOST_STATE/complete" ]]; then
  echo "  node: no host state recorded in $HOST_STATE: nothing else to restore"
  exit 0
fi

# 3. The bridge (the pods' veths went with their network namespaces).
bridge=$(cat "$HOST_STATE/bridge")
if ip link show "$bridge" >/dev/null 2>&1; then
  echo "  bridge $bridge: deleting"
  ip link delete "$bridge" || warn "could not delete the bridge $bridge"
fi

# 4. iptables: the KUBE-* and CNI-* chains that were not there before, and every rule that jumps to them.
for cmd in iptables ip6tables; do
  [[ -f "$HOST_STATE/$cmd-chains" ]] || continue
  now=$("$cmd-save" 2>/dev/null) || continue
  script=$(awk -v before="$HOST_STATE/$cmd-chains" '
    BEGIN { while ((getline l < before) > 0) { split(l, a, " "); had[a[1] " " a[2]] = 1 } }
    /^\*/ { t = substr($1, 2); tables[++nt] = t; next }
    /^:/ { c = substr($1, 2); if ((c ~ /^(KUBE|CNI)-/) && !((t " " c) in had)) { drop[t, c] = 1; chains[t] = chains[t] " " c }; next }
    /^-A / { rules[t] = rules[t] "\n" $0; next }
    END {
      for (i = 1; i <= nt; i++) {
        t = tables[i]
        if (chains[t] == "") continue
        print "*" t
        n = split(rules[t], rs, "\n")
        for (j = 1; j <= n; j++) {
          if (rs[j] == "") continue
          split(rs[j], w, " ")
          target = ""
          for (k = 1; k < length(w); k++) if (w[k] == "-j" || w[k] == "-g") target = w[k + 1]
          # Rules inside a dropped chain go with it; rules elsewhere that jump into one are deleted.
          if (!((t, w[2]) in drop) && (t, target) in drop) { sub(/^-A /, "-D ", rs[j]); print rs[j] }
        }
        m = split(chains[t], cs, " ")
        for (j = 1; j <= m; j++) print "-F " cs[j]
        for (j = 1; j <= m; j++) print "-X " cs[j]
        print "COMMIT"
      }
    }' <<<"$now")
  if [[ -n "$script" ]]; then
    echo "  $cmd: removing chains $(grep -E '^-X ' <<<"$script" | cut -d' ' -f2 | sort -u | tr '\n' ' ')"
    "$cmd-restore" --noflush <<<"$script" || warn "$cmd-restore failed on: $script"
  fi
done

# 5. kubepods cgroups in every hierarchy, leaf first (rmdir only; nothing is remounted).
while read -r _ mnt fstype _; do
  [[ "$fstype" == cgroup || "$fstype" == cgroup2 ]] || continue
  [[ -d "$mnt/kubepods" ]] || continue
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    find "$mnt/kubepods" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    [[ -d "$mnt/kubepods" ]] || break
    sleep 0.5
  done
  [[ ! -d "$mnt/kubepods" ]] || warn "could not remove $mnt/kubepods (processes left in it?)"
done </proc/mounts

# 6. Paths outside LOCAL_DIR that did not exist before (unmounting anything below them first).
while read -r p; do
  [[ -n "$p" && -e "$p" ]] || continue
  awk -v d="$p/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do umount "$m" || true; done
  echo "  $p: removing (created by the node)"
  rm -rf "$p" || warn "could not remove $p"
done <"$HOST_STATE/created-paths"

# 7. sysctls as they were.
while read -r key value; do
  if [[ "$(sysctl -n "$key")" != "$value" ]]; then
    echo "  sysctl $key: $(sysctl -n "$key") -> $value"
    sysctl -qw "$key=$value" || warn "could not restore $key=$value"
  fi
done <"$HOST_STATE/sysctl"

if ((problems > 0)); then
  echo "node-down: $problems thing(s) could not be restored (see above); $HOST_STATE is kept for another try" >&2
  exit 1
fi
rm -rf "$HOST_STATE"
echo "  node: stopped; the host is as recorded before"
