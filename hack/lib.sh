# Shared settings and helpers of cluster-up.sh and cluster-down.sh.
root=${root:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
LOCAL_DIR=${LOCAL_DIR:-$root/bin/local}
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
