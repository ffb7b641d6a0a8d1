#!/usr/bin/env bash
# make test-fidelity: runs test/fidelity/*.yaml for FIDELITY_SECONDS (180) in virtual time with probesim and, all in
# parallel, on the real node (make cluster-up NODE=real, under /tmp/realnode.lock, one session at a time), records
# pods and Events from the API server, and compares them (go test -tags fidelity ./test/fidelity): bin/fidelity.json.
# The simulated kubelet (make cluster-up without NODE) is not part of it yet.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
secs=${FIDELITY_SECONDS:-180}
rec=$root/bin/fidelity-rec
mkdir -p "$rec/sim"
start=$SECONDS
for f in test/fidelity/*.yaml; do
  go run ./test/harness/cmd/probesim run -f "$f" --duration "${secs}s" -o json --events >"$rec/sim/$(basename "$f" .yaml).json"
done
max_period=$(grep -ho 'periodSeconds: [0-9]*' test/fidelity/*.yaml | awk '{ if ($2 > m) m = $2 } END { print m + 0 }')
export API_PORT=${API_PORT:-27443} ETCD_PORT=${ETCD_PORT:-23379}
flock /tmp/realnode.lock bash -c '
  set -euo pipefail
  trap "make cluster-down >'"$rec"'/down.log 2>&1" EXIT
  make cluster-up NODE=real >'"$rec"'/up.log 2>&1
  export KUBECONFIG=$PWD/bin/local/kubeconfig
  # Probe workers created within one period of the kubelet'"'"'s start first sleep a random part of the period
  # (prober/worker.go); the simulator'"'"'s kubelet has long been up. Apply once the longest period has passed.
  kubelet_pid=$(cat bin/local/run/kubelet.pid)
  until (( $(ps -o etimes= -p "$kubelet_pid") > 2 * '"$max_period"' )); do sleep 1; done
  bin/k8s/kubectl get pods -l suite=fidelity --watch -o json >'"$rec"'/pods-watch.json &
  watch_pid=$!
  for f in test/fidelity/*.yaml; do bin/k8s/kubectl apply -f "$f" >/dev/null; done
  sleep '"$secs"'
  kill "$watch_pid"
  bin/k8s/kubectl get pods -o json >'"$rec"'/pods.json
  bin/k8s/kubectl get events -o json >'"$rec"'/events.json'
FIDELITY_SIM=$rec/sim FIDELITY_REAL_PODS=$rec/pods.json FIDELITY_REAL_EVENTS=$rec/events.json \
  FIDELITY_REAL_WATCH=$rec/pods-watch.json \
  go test -tags fidelity ./test/fidelity -count=1 -v
echo "test-fidelity: $((SECONDS - start))s wall time"
