# Shared settings and helpers of cluster-up.sh and cluster-down.sh.
root=${root:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
LOCAL_DIR=$(realpath -m "${LOCAL_DIR:-$root/bin/local}")
K8S_BIN=${K8S_BIN:-$root/bin/k8s}
API_PORT=${API_PORT:-16443}
ETCD_PORT=${ETCD_PORT:-12379}
ETCD_PEER_PORT=$((ETCD_PORT + 1))
KUBECONFIG_PATH=$LOCAL_DIR/kubeconfig
KUBECTL=${KUBECTL:-$K8S_BIN/kubectl}
SIMKUBELET=${SIMKUBELET:-$root/bin/simkubelet}

# running NAME succeeds when the process recorded for NAME is alive and is still that program.
running() {
  local pidfile="$LOCAL_DIR/run/$1.pid" pid
  [[ -f "$pidfile" ]] || return 1
  pid=$(cat "$pidfile")
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$(cat "$LOCAL_DIR/run/$1.cmd")"
}

# start NAME BINARY ARGS... starts BINARY in its own session, logging to logs/NAME.log, unless NAME runs already.
start() {
  local name=$1 bin=$2
  shift 2
  if running "$name"; then
    echo "  $name: already running (pid $(cat "$LOCAL_DIR/run/$name.pid"))"
    return
  fi
  echo "  $name: starting"
  echo "$bin" >"$LOCAL_DIR/run/$name.cmd"
  setsid "$bin" "$@" >>"$LOCAL_DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$LOCAL_DIR/run/$name.pid"
  sleep 0.5
  if ! running "$name"; then
    echo "$name exited at once; the end of its log ($LOCAL_DIR/logs/$name.log):" >&2
    tail -n 20 "$LOCAL_DIR/logs/$name.log" >&2
    exit 1
  fi
}

# wait_ready waits until the API server answers /readyz.
wait_ready() {
  local deadline=$((SECONDS + 120))
  until "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" get --raw /readyz >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      echo "kube-apiserver did not become ready within 120s; the end of its log:" >&2
      tail -n 30 "$LOCAL_DIR/logs/kube-apiserver.log" >&2
      exit 1
    fi
    if ! running kube-apiserver; then
      echo "kube-apiserver exited; the end of its log:" >&2
      tail -n 30 "$LOCAL_DIR/logs/kube-apiserver.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "  kube-apiserver: ready on https://127.0.0.1:$API_PORT"
}

# The real node (NODE=real): its binaries, name, bridge, subnet and ports. Bridge, subnet, /kubepods and
# /run/containerd/s are global on the machine: one real node per machine at a time.
NODE=${NODE:-sim}
NODE_BIN=${NODE_BIN:-$root/bin/k8s-node}
NODE_NAME=${NODE_NAME:-real-node}
NODE_BRIDGE=${NODE_BRIDGE:-ptbr0}
NODE_SUBNET=${NODE_SUBNET:-10.244.77.0/24}
KUBELET_PORT=${KUBELET_PORT:-20250}
KUBELET_HEALTHZ_PORT=${KUBELET_HEALTHZ_PORT:-20248}
# What node-up.sh records about the host before it changes it, and node-down.sh restores from.
HOST_STATE=$LOCAL_DIR/run/host
# Paths outside LOCAL_DIR that the kubelet, containerd and the CNI plugins create whatever they are told.
NODE_GLOBAL_PATHS=(/var/lib/kubelet/device-plugins /var/log/containers /var/lib/cni /run/containerd/s /run/containerd/fifo /run/mount)
NODE_SYSCTLS=(vm.overcommit_memory kernel.panic kernel.panic_on_oops net.ipv4.ip_forward)

# node_ip prints the machine's own IPv4 address (the kubelet refuses a loopback one): the first global address of
# the default route's interface, else the first global address of any interface.
node_ip() {
  local dev ip=""
  dev=$(ip -4 route show default 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "dev") {print $(i + 1); exit}}')
  [[ -z "$dev" ]] || ip=$(ip -4 -o addr show dev "$dev" scope global | awk '{split($4, a, "/"); print a[1]; exit}')
  [[ -n "$ip" ]] || ip=$(ip -4 -o addr show scope global | awk '{split($4, a, "/"); print a[1]; exit}')
  echo "$ip"
}

# stop NAME [TRIES] stops the process recorded for NAME: SIGTERM, then SIGKILL after TRIES x 0.2 s (default 50).
stop() {
  local name=$1 tries=${2:-50} pid
  running "$name" || return 0
  pid=$(cat "$LOCAL_DIR/run/$name.pid")
  echo "  $name: stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 "$tries"); do
    running "$name" || return 0
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.2
}

# k8s_ldflags MODULE_DIR prints the -ldflags that stamp a Kubernetes binary with the module's k8s.io/kubernetes
# version, as the upstream release build does.
k8s_ldflags() {
  local version minor pkg=k8s.io/component-base/version flags
  version=$(awk '$1 == "k8s.io/kubernetes" {print $2}' "$1/go.mod" | head -n1)
  minor=$(echo "$version" | cut -d. -f2)
  flags="-s -w -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "$flags -X $pkg.gitCommit=probe-tuner-local-build"
}

# node_ctr ARGS... runs ctr against the real node's containerd, in the kubelet's namespace (k8s.io); ctr warns about
# cgroup v1 on every call: its stderr goes to a log.
node_ctr() { "$NODE_BIN/ctr" --address "$LOCAL_DIR/containerd/containerd.sock" -n k8s.io "$@" 2>>"$LOCAL_DIR/logs/ctr.log"; }

# node_import_image NAME BINARY [USER] packs the static BINARY as the single-layer image NAME (entrypoint, user) and
# imports it into the real node's containerd, replacing an image of that name.
node_import_image() {
  local name=$1 bin=$2 user=${3:-} tar
  mkdir -p "$LOCAL_DIR/images"
  tar="$LOCAL_DIR/images/$(echo "$name" | tr '/:' '__').tar"
  "$NODE_BIN/ociimage" --binary "$bin" --name "$name" --out "$tar" ${user:+--user "$user"} || return 1
  node_ctr images import --snapshotter overlayfs "$tar" >/dev/null || {
    echo "ctr images import $tar failed; see $LOCAL_DIR/logs/ctr.log" >&2
    return 1
  }
}

# stamped_go_build OUT NAME WANT MODULE TARGET LDFLAGS NOTE builds the Go package TARGET of the module in MODULE
# into OUT/NAME, unless OUT/NAME exists with a stamp that says WANT (a fingerprint of what it is built from); NOTE
# says how long a build takes.
stamped_go_build() {
  local out=$1 name=$2 want=$3 mod=$4 target=$5 ldflags=$6 note=$7
  if [[ -x "$out/$name" && -f "$out/.$name.stamp" && "$(cat "$out/.$name.stamp")" == "$want" ]]; then
    echo "  $name: up to date ($out/$name)"
    return
  fi
  echo "  $name: building $target ($note)..."
  local start=$SECONDS
  (cd "$mod" && go build -trimpath -ldflags "$ldflags" -o "$out/$name.tmp" "$target")
  mv "$out/$name.tmp" "$out/$name"
  echo "$want" >"$out/.$name.stamp"
  echo "  $name: built in $((SECONDS - start))s"
}
