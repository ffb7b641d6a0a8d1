#!/usr/bin/env bash
# Starts the real node on a running local control plane (called by cluster-up.sh with NODE=real): containerd and a
# real kubelet (one node), with their state in $LOCAL_DIR, then waits until the Node is Ready. Before it changes
# anything on the host it records what node-down.sh must restore ($HOST_STATE): sysctls, iptables chains, paths
# outside $LOCAL_DIR. Needs root. Idempotent: what runs already is left alone.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=hack/lib.sh
source "$root/hack/lib.sh"

fail() {
  echo "node-up: $*" >&2
  exit 1
}

# --- Preconditions --------------------------------------------------------------------------------------------
[[ $(id -u) == 0 ]] || fail "the real node needs root (the kubelet and runc manage cgroups, mounts and namespaces)"
grep -qw overlay /proc/filesystems || fail "overlayfs is not available (no 'overlay' in /proc/filesystems); containerd's overlayfs snapshotter needs it"
if [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]]; then
  cgroups=v2
else
  cgroups=v1
  grep -q ' cgroup ' /proc/mounts || fail "no cgroup v1 hierarchy is mounted under /sys/fs/cgroup"
fi
echo "  host: cgroup $cgroups, net.ipv4.ip_forward=$(sysctl -n net.ipv4.ip_forward) (the bridge plugin sets it to 1; cluster-down restores it)"

missing=()
command -v runc >/dev/null || missing+=(runc)
[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback && -x /usr/lib/cni/portmap ]] || missing+=(containernetworking-plugins)
command -v iptables >/dev/null || missing+=(iptables)
if ((${#missing[@]} > 0)); then
  command -v apt-get >/dev/null || fail "missing ${missing[*]} and no apt-get to install them"
  echo "  host: installing ${missing[*]} (apt-get)"
  apt-get install -y "${missing[@]}" >"$LOCAL_DIR/logs/apt-get.log" 2>&1 ||
    { apt-get update >>"$LOCAL_DIR/logs/apt-get.log" 2>&1 && apt-get install -y "${missing[@]}" >>"$LOCAL_DIR/logs/apt-get.log" 2>&1; } ||
    fail "apt-get install ${missing[*]} failed; see $LOCAL_DIR/logs/apt-get.log"
fi
RUNC=$(command -v runc)
for b in kubelet kube-scheduler containerd containerd-shim-runc-v2 ctr ociimage pause probe-target; do
  [[ -x "$NODE_BIN/$b" ]] || fail "$NODE_BIN/$b is missing: run 'make node-binaries' (make cluster-up NODE=real does)"
done
NODE_IP=$(node_ip)
[[ -n "$NODE_IP" ]] || fail "found no global IPv4 address on this machine; the kubelet refuses a loopback node IP"

# --- Record the host's state before the first change (kept across runs, so a re-run or a crash cannot lose it) --
if [[ ! -f "$HOST_STATE/complete" ]]; then
  if ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
    fail "the bridge $NODE_BRIDGE exists already: another real node runs on this machine (or one was not cleaned up: make cluster-down LOCAL_DIR=...)"
  fi
  if find /sys/fs/cgroup -maxdepth 2 -name kubepods -print -quit 2>/dev/null | grep -q .; then
    fail "kubepods cgroups exist already: another kubelet runs on this machine"
  fi
  rm -rf "$HOST_STATE"
  mkdir -p "$HOST_STATE"
  for s in "${NODE_SYSCTLS[@]}"; do
    echo "$s $(sysctl -n "$s")" >>"$HOST_STATE/sysctl"
  done
  # For each global path, the topmost directory that does not exist yet: node-down removes exactly those.
  for p in "${NODE_GLOBAL_PATHS[@]}"; do
    top=""
    q=$p
    while [[ "$q" != / && ! -e "$q" ]]; do
      top=$q
      q=$(dirname "$q")
    done
    [[ -z "$top" ]] || echo "$top" >>"$HOST_STATE/created-paths"
  done
  touch "$HOST_STATE/created-paths"
  # Chain names before: node-down removes the KUBE-* and CNI-* chains that were not there.
  for cmd in iptables ip6tables; do
    if command -v "$cmd-save" >/dev/null && "$cmd-save" >/dev/null 2>&1; then
      "$cmd-save" | awk '/^\*/ {t = substr($1, 2)} /^:/ {print t, substr($1, 2)}' >"$HOST_STATE/$cmd-chains"
    fi
  done
  echo "$NODE_BRIDGE" >"$HOST_STATE/bridge"
  touch "$HOST_STATE/complete"
  echo "  host: state recorded in $HOST_STATE"
fi

# --- Configuration ----------------------------------------------------------------------------------------------
CTRD=$LOCAL_DIR/containerd
KUBELET_DIR=$LOCAL_DIR/kubelet
CNI_CONF=$LOCAL_DIR/cni/net.d
PAUSE_IMAGE=localhost/pause:local
TARGET_IMAGE=localhost/probe-target:latest
mkdir -p "$CTRD" "$KUBELET_DIR" "$CNI_CONF" "$LOCAL_DIR/cni/ipam" "$LOCAL_DIR/images" "$LOCAL_DIR/pod-logs"

cat >"$CTRD/config.toml" <<EOF
# containerd for the real node; everything it keeps is under $CTRD (written by hack/node-up.sh).
version = 3
root = "$CTRD/root"
state = "$CTRD/state"
# NRI would open /var/run/nri; not needed.
disabled_plugins = ["io.containerd.nri.v1.nri"]

[grpc]
  address = "$CTRD/containerd.sock"
[ttrpc]
  address = "$CTRD/containerd.sock.ttrpc"
[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$CTRD/opt"

[plugins."io.containerd.cri.v1.runtime"]
  # Root here lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj below containerd's own, and without this
  # every sandbox fails with "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  cdi_spec_dirs = []
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "$RUNC"
        Root = "$CTRD/runc"
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "$CNI_CONF"
    max_conf_num = 1

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "$PAUSE_IMAGE"

[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
EOF

cat >"$CNI_CONF/10-probe-tuner.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "probe-tuner",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$NODE_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$LOCAL_DIR/cni/ipam",
        "ranges": [[{"subnet": "$NODE_SUBNET"}]],
        "routes": [{"dst": "$NODE_IP/32"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "loopback"}
  ]
}
EOF

cat >"$KUBELET_DIR/config.yaml" <<EOF
# The real node's kubelet (written by hack/node-up.sh).
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
failSwapOn: false
containerRuntimeEndpoint: unix://$CTRD/containerd.sock
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $LOCAL_DIR/pki/ca.crt}
authorization:
  mode: Webhook
# Imported images cannot be pulled again: never collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  imagefs.available: 1%
  nodefs.inodesFree: 1%
volumePluginDir: $KUBELET_DIR/volume-plugins
podLogsDir: $LOCAL_DIR/pod-logs
clusterDomain: cluster.local
registerNode: true
rotateCertificates: false
serializeImagePulls: false
maxPods: 110
EOF

# --- containerd --------------------------------------------------------------------------------------------------
# The shim is looked up on PATH.
export PATH="$NODE_BIN:$PATH"
start containerd "$NODE_BIN/containerd" --config "$CTRD/config.toml" --log-level warn
deadline=$((SECONDS + 30))
until node_ctr version >/dev/null 2>&1; do
  ((SECONDS < deadline)) || fail "containerd did not answer within 30s; see $LOCAL_DIR/logs/containerd.log"
  running containerd || fail "containerd exited; the end of its log: $(tail -n 20 "$LOCAL_DIR/logs/containerd.log")"
  sleep 0.3
done

# --- Images (no registry, no pulls) ------------------------------------------------------------------------------
import_image() {
  if node_ctr images ls -q | grep -qxF "$1"; then
    echo "  image $1: present"
    return
  fi
  node_import_image "$1" "$2" || fail "importing $1 failed"
  echo "  image $1: imported"
}
import_image "$PAUSE_IMAGE" "$NODE_BIN/pause"
import_image "$TARGET_IMAGE" "$NODE_BIN/probe-target"

# --- kubelet -----------------------------------------------------------------------------------------------------
start kubelet "$NODE_BIN/kubelet" \
  --config "$KUBELET_DIR/config.yaml" \
  --kubeconfig "$LOCAL_DIR/pki/kubelet.kubeconfig" \
  --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
  --root-dir "$KUBELET_DIR/root" --cert-dir "$KUBELET_DIR/pki" \
  --v 1

echo "  node $NODE_NAME: waiting until it is Ready"
deadline=$((SECONDS + 120))
until [[ $("$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]; do
  if ((SECONDS > deadline)); then
    echo "node $NODE_NAME is not Ready after 120s; its conditions and the end of the kubelet's log:" >&2
    "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" get node "$NODE_NAME" -o jsonpath='{range .status.conditions[*]}{.type}={.status} {.message}{"\n"}{end}' >&2 || true
    tail -n 30 "$LOCAL_DIR/logs/kubelet.log" >&2
    exit 1
  fi
  running kubelet || fail "the kubelet exited; the end of its log: $(tail -n 30 "$LOCAL_DIR/logs/kubelet.log")"
  sleep 1
done
echo "  node $NODE_NAME: Ready (InternalIP $NODE_IP, pods on $NODE_BRIDGE $NODE_SUBNET, image $TARGET_IMAGE)"
