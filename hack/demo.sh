#!/usr/bin/env bash
# make demo: builds what is missing, starts the local control plane and the simulated kubelet, installs the CRD,
# starts probe-tuner, deploys the demo workloads (config/demo) and narrates what probe-tuner observes and decides.
# It runs until Ctrl-C, which stops everything it started. DEMO_ONESHOT=1 stops after the summary (CI uses it).
# NODE=real (as root) runs the same workloads as real containers: containerd, runc and a real kubelet, each pod
# the probe-target image behaving as its sim.probetuner.io annotations say (docs/real-node.md).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=hack/lib.sh
source "$root/hack/lib.sh"
cd "$root"

# Background jobs get their own process groups, so that cleanup can stop each job with all its processes.
set -m

NODE=${NODE:-sim}
NODE_BIN=${NODE_BIN:-$root/bin/k8s-node}
export NODE NODE_BIN
DEMO_TIMEOUT=${DEMO_TIMEOUT:-600}
METRICS=127.0.0.1:${DEMO_METRICS_PORT:-8080}
HEALTH=127.0.0.1:${DEMO_HEALTH_PORT:-8081}
children=()
# keep_logs says the demo failed or fell short: the logs it pointed at stay, and their ends are shown.
keep_logs=0

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
note() { printf '    %s\n' "$*"; }
k() { "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" "$@"; }

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if ((status != 0 || keep_logs)) && [[ -s "$LOCAL_DIR/logs/manager.log" ]]; then
    echo "The last lines of $LOCAL_DIR/logs/manager.log (kept, with the other components' logs):" >&2
    tail -n 40 "$LOCAL_DIR/logs/manager.log" | sed 's/^/    /' >&2
  fi
  say "Stopping everything the demo started"
  for pid in "${children[@]}"; do
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  done
  for pid in "${children[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if ((status != 0 || keep_logs)); then
    KEEP_LOGS=1 "$root/hack/cluster-down.sh" || true
  else
    "$root/hack/cluster-down.sh" || true
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case "$NODE" in
sim)
  say "Building probe-tuner: the manager and the simulated kubelet"
  go build -o bin/ ./cmd/manager ./test/harness/cmd/simkubelet
  ;;
real)
  say "Building probe-tuner's manager"
  go build -o bin/ ./cmd/manager
  say "Building the real node (kubelet, kube-scheduler, containerd, the probe-target and pause images) if missing"
  "$root/hack/build-node.sh" "$NODE_BIN"
  ;;
*)
  echo "NODE=$NODE: want sim (the simulated kubelet, the default) or real" >&2
  exit 2
  ;;
esac
say "Building the local control plane (etcd, kube-apiserver, kube-controller-manager, kubectl) if missing"
"$root/hack/build-controlplane.sh" "$K8S_BIN"

if running kube-apiserver 2>/dev/null; then
  say "Restarting the local control plane from scratch"
  "$root/hack/cluster-down.sh"
fi
if [[ "$NODE" == real ]]; then
  say "Starting the local control plane on 127.0.0.1 and a real node (containerd, runc, kubelet)"
else
  say "Starting the local control plane and the simulated kubelet on 127.0.0.1"
fi
"$root/hack/cluster-up.sh"

say "Installing the ProbePolicy CRD"
k apply -k config/crd >/dev/null
k wait --for condition=Established --timeout 60s crd/probepolicies.tuning.probetuner.io >/dev/null
note "customresourcedefinition probepolicies.tuning.probetuner.io established"

say "Starting probe-tuner (logs: $LOCAL_DIR/logs/manager.log, metrics: http://$METRICS/metrics)"
KUBECONFIG="$KUBECONFIG_PATH" bin/manager --metrics-bind-address "$METRICS" --metrics-secure=false \
  --health-probe-bind-address "$HEALTH" >"$LOCAL_DIR/logs/manager.log" 2>&1 &
children+=($!)
for _ in $(seq 1 60); do
  curl -fsS "http://$HEALTH/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "http://$HEALTH/readyz" >/dev/null || { echo "probe-tuner did not become ready; see $LOCAL_DIR/logs/manager.log" >&2; exit 1; }

# for_real_node prints a demo manifest with each Deployment's container turned into probe-target: its image
# (imported by cluster-up, never pulled), its sim.probetuner.io annotations mounted where it reads them, and one
# epoch for all pods so that a shared dependency's outages hit every replica at once.
for_real_node() {
  local file=$1 c=/spec/template/spec/containers/0 p=/spec/template/spec
  if ! grep -q '^kind: Deployment' "$file"; then
    cat "$file"
    return
  fi
  k patch --local -f "$file" --type json -o yaml -p "[
 {\"op\": \"replace\", \"path\": \"$c/image\", \"value\": \"localhost/probe-target:latest\"},
 {\"op\": \"add\", \"path\": \"$c/imagePullPolicy\", \"value\": \"Never\"},
 {\"op\": \"add\", \"path\": \"$c/env\", \"value\": [{\"name\": \"SIM_EPOCH\", \"value\": \"$epoch\"}]},
 {\"op\": \"add\", \"path\": \"$c/volumeMounts\", \"value\": [{\"name\": \"podinfo\", \"mountPath\": \"/etc/probe-target\"}]},
 {\"op\": \"add\", \"path\": \"$p/volumes\", \"value\": [{\"name\": \"podinfo\", \"downwardAPI\": {\"items\": [{\"path\": \"annotations\", \"fieldRef\": {\"fieldPath\": \"metadata.annotations\"}}]}}]},
 {\"op\": \"add\", \"path\": \"$p/dnsPolicy\", \"value\": \"Default\"},
 {\"op\": \"add\", \"path\": \"$p/automountServiceAccountToken\", \"value\": false},
 {\"op\": \"add\", \"path\": \"$p/terminationGracePeriodSeconds\", \"value\": 5}
]"
}

say "Deploying the demo workloads and two ProbePolicies into namespace demo"
if [[ "$NODE" == real ]]; then
  epoch=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  for f in config/demo/*.yaml; do
    for_real_node "$f"
    echo "---"
  done | k apply -f - | sed 's/^/    /'
  note "(each container runs localhost/probe-target, behaving as its sim.probetuner.io annotations say)"
else
  k apply -f config/demo/ | sed 's/^/    /'
fi
cat <<'EOF'

    cache-loader    loads its cache for ~40 s under a 3 x 10 s liveness window: crash loop      (Auto)
    flaky-api       readiness answers in ~1 s against a 1 s timeout: flapping                   (Auto)
    stuck-cache     never finishes loading, readiness probe only: stuck, nothing restarts it    (Auto)
    orders          liveness checks a shared database that has outages: correlated kills        (Auto)
    healthy-web     well probed: must be left alone                                             (Auto)
    report-builder  a ~35 s start under the default liveness probe                              (Recommend)
EOF

say "What probe-tuner decides, as it happens (Events on the ProbePolicies)"
# narrate prints the policies' Events not printed yet, oldest first.
declare -A told=()
narrate() {
  local name reason message
  while IFS=$'\t' read -r name reason message; do
    [[ -z "$name" || -n "${told[$name]:-}" ]] && continue
    told[$name]=1
    printf '    %s  %-27s %s\n' "$(date +%H:%M:%S)" "$reason" "${message:0:240}"
  done < <(k get events -n demo --field-selector involvedObject.kind=ProbePolicy --sort-by .eventTime \
    -o jsonpath='{range .items[*]}{.metadata.name}{"\t"}{.reason}{"\t"}{.message}{"\n"}{end}' 2>/dev/null)
}

# milestone NAME CHECK... prints NAME once when the command CHECK succeeds.
declare -A reached=()
milestone() {
  local name=$1
  shift
  [[ -n "${reached[$name]:-}" ]] && return 0
  if "$@" >/dev/null 2>&1; then
    reached[$name]=1
    printf '    %s  \033[32m✓ %s\033[0m\n' "$(date +%H:%M:%S)" "$name"
  fi
}
jp() { k get "$1" -n demo -o jsonpath="$2" 2>/dev/null; }
crash_loop_stopped() {
  [[ -n "$(jp deploy/cache-loader '{.spec.template.spec.containers[0].startupProbe}')" ]] &&
    [[ "$(jp deploy/cache-loader '{.status.readyReplicas}')" == "2" ]] &&
    [[ "$(jp deploy/cache-loader '{.status.updatedReplicas}')" == "2" ]] &&
    [[ "$(jp deploy/cache-loader '{.status.replicas}')" == "2" ]]
}
flapping_tuned() { [[ "$(jp deploy/flaky-api '{.spec.template.spec.containers[0].readinessProbe.timeoutSeconds}')" -gt 1 ]]; }
warned() { k get events -n demo --field-selector "involvedObject.kind=ProbePolicy,reason=$1" -o name | grep -q .; }
recommended() { jp probepolicy/demo-recommend '{.status.decisions[*].action}' | grep -q Recommended; }

start=$SECONDS
while ((SECONDS - start < DEMO_TIMEOUT)); do
  narrate
  milestone "cache-loader: crash loop stopped, 2/2 pods Ready with a startup probe" crash_loop_stopped
  milestone "flaky-api: readiness timeout raised to stop the flapping" flapping_tuned
  milestone "stuck-cache: warned (running, never ready, nothing restarts it)" warned StuckNotReady
  milestone "orders: warned (liveness failures on every replica at once)" warned CorrelatedLivenessFailures
  milestone "report-builder: change recommended, Deployment untouched (Recommend mode)" recommended
  ((${#reached[@]} == 5)) && break
  sleep 3
done

narrate
say "Summary after $((SECONDS - start))s"
k get probepolicies -n demo | sed 's/^/    /'
echo
k get deployments -n demo -o custom-columns='DEPLOYMENT:.metadata.name,GENERATION:.metadata.generation,READY:.status.readyReplicas,WANTED:.spec.replicas' | sed 's/^/    /'
echo
curl -fsS "http://$METRICS/metrics" | grep -E '^probetuner_(adjustments_total|container_restarts_total)' | head -12 | sed 's/^/    /' || true
if [[ "$(jp deploy/healthy-web '{.metadata.generation}')" == "1" ]]; then
  note "healthy-web: left alone (generation 1)"
fi
if ((${#reached[@]} < 5)); then
  echo "Not every milestone was reached within ${DEMO_TIMEOUT}s; see $LOCAL_DIR/logs/manager.log" >&2
  keep_logs=1
fi

cat <<EOF

Look for yourself (in another terminal):
    export KUBECONFIG=$KUBECONFIG_PATH
    $KUBECTL describe probepolicy -n demo demo-auto
    $KUBECTL get events -n demo --field-selector involvedObject.kind=ProbePolicy
    $KUBECTL get deploy cache-loader -n demo -o jsonpath='{.metadata.annotations.probetuner\.io/last-change}'
    curl -s http://$METRICS/metrics | grep ^probetuner_
EOF

if [[ -n "${DEMO_DESCRIBE_OUT:-}" ]]; then
  k describe probepolicy -n demo demo-auto >"$DEMO_DESCRIBE_OUT"
fi
if [[ "${DEMO_ONESHOT:-0}" == "1" ]]; then
  ((${#reached[@]} == 5))
  exit
fi
say "probe-tuner keeps running; press Ctrl-C to stop everything"
while true; do sleep 3600; done
