#!/usr/bin/env bash
# Starts the local control plane on loopback: etcd, kube-apiserver (RBAC on, service-account keys) and
# kube-controller-manager (deployment, replicaset, garbage-collector, namespace and service-account controllers),
# then the simulated kubelet when it is built. Idempotent: components that are already up are left alone.
#
# Settings (environment): LOCAL_DIR (state; default bin/local), K8S_BIN (binaries; default bin/k8s),
# API_PORT (default 16443), ETCD_PORT (default 12379; the peer port is ETCD_PORT+1), SIMKUBELET (the simulated
# kubelet's binary, default bin/simkubelet; "none" to skip it), SIM_NODES (default 2), SIMKUBELET_FLAGS,
# EVENT_TTL (how long kube-apiserver keeps Events; default, also when empty, 1h: its own default).
# NODE=real starts kube-scheduler, containerd and a real kubelet instead of the simulated kubelet (hack/node-up.sh,
# needs root; binaries from bin/k8s-node, see docs/real-node.md).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=hack/lib.sh
source "$root/hack/lib.sh"

mkdir -p "$LOCAL_DIR/logs" "$LOCAL_DIR/run"
"$K8S_BIN/localpki" --dir "$LOCAL_DIR/pki" --server "https://127.0.0.1:$API_PORT"
cp "$LOCAL_DIR/pki/admin.kubeconfig" "$KUBECONFIG_PATH"

# The real node: the kubelet's and kube-scheduler's certificates, and what kube-apiserver needs to reach and
# authorize a real kubelet (the Node authorizer, its InternalIP rather than its name, a client certificate).
authz=RBAC
bind=127.0.0.1 advertise=127.0.0.1
real_node_flags=()
controllers=deployment-controller,replicaset-controller,garbage-collector-controller,namespace-controller,serviceaccount-controller,root-ca-certificate-publisher-controller,pod-garbage-collector-controller
case "$NODE" in
real)
  # Pods reach the API server on the machine's own address (there is no kube-proxy for the kubernetes Service's
  # ClusterIP): it listens there too and its certificate names it.
  advertise=$(node_ip)
  [[ -n "$advertise" ]] || { echo "NODE=real: the machine has no global IPv4 address for the node" >&2; exit 1; }
  bind=0.0.0.0
  "$K8S_BIN/localpki" --dir "$LOCAL_DIR/pki" --server "https://127.0.0.1:$API_PORT" --node "$NODE_NAME" \
    --apiserver-ips "$advertise"
  authz=Node,RBAC
  # It takes the kubelet's node.kubernetes.io/not-ready taint off once the Node is Ready (and watches its health).
  controllers+=,node-lifecycle-controller
  real_node_flags=(--kubelet-preferred-address-types InternalIP
    --kubelet-client-certificate "$LOCAL_DIR/pki/apiserver-kubelet-client.crt"
    --kubelet-client-key "$LOCAL_DIR/pki/apiserver-kubelet-client.key"
    --enable-admission-plugins NodeRestriction)
  ;;
sim) ;;
*)
  echo "NODE=$NODE: want sim (the simulated kubelet, the default) or real" >&2
  exit 1
  ;;
esac

start etcd "$K8S_BIN/etcd" \
  --name local --data-dir "$LOCAL_DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "local=http://127.0.0.1:$ETCD_PEER_PORT" \
  --listen-metrics-urls "" --log-level warn --quota-backend-bytes 4294967296 --unsafe-no-fsync

start kube-apiserver "$K8S_BIN/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address "$bind" --advertise-address "$advertise" --secure-port "$API_PORT" \
  --tls-cert-file "$LOCAL_DIR/pki/apiserver.crt" --tls-private-key-file "$LOCAL_DIR/pki/apiserver.key" \
  --client-ca-file "$LOCAL_DIR/pki/ca.crt" \
  --service-account-key-file "$LOCAL_DIR/pki/sa.pub" --service-account-signing-key-file "$LOCAL_DIR/pki/sa.key" \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-cluster-ip-range 10.0.0.0/24 \
  --authorization-mode "$authz" --allow-privileged=true \
  --endpoint-reconciler-type none --event-ttl "${EVENT_TTL:-1h}" \
  ${real_node_flags[@]+"${real_node_flags[@]}"} \
  --v 1
wait_ready

start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
  --kubeconfig "$LOCAL_DIR/pki/controller-manager.kubeconfig" \
  --authentication-kubeconfig "$LOCAL_DIR/pki/controller-manager.kubeconfig" \
  --authorization-kubeconfig "$LOCAL_DIR/pki/controller-manager.kubeconfig" \
  --controllers "$controllers" \
  --use-service-account-credentials=true --leader-elect=false --secure-port 0 \
  --root-ca-file "$LOCAL_DIR/pki/ca.crt" --service-account-private-key-file "$LOCAL_DIR/pki/sa.key" \
  --concurrent-deployment-syncs 10 --concurrent-replicaset-syncs 10 \
  --kube-api-qps 200 --kube-api-burst 400 --v 1

# The simulated kubelet (nodes, scheduling, pods): SIMKUBELET=none leaves the cluster without nodes; SIM_NODES
# sets the number of nodes and SIMKUBELET_FLAGS adds flags (word-split), e.g. "--kube-api-qps 200 -v 2".
if [[ "$NODE" == real ]]; then
  start kube-scheduler "$NODE_BIN/kube-scheduler" \
    --kubeconfig "$LOCAL_DIR/pki/scheduler.kubeconfig" \
    --authentication-kubeconfig "$LOCAL_DIR/pki/scheduler.kubeconfig" \
    --authorization-kubeconfig "$LOCAL_DIR/pki/scheduler.kubeconfig" \
    --leader-elect=false --secure-port 0 --v 1
  "$root/hack/node-up.sh"
elif [[ "$SIMKUBELET" == none ]]; then
  echo "  simkubelet: skipped (SIMKUBELET=none): pods will stay pending"
elif [[ -x "$SIMKUBELET" ]]; then
  # shellcheck disable=SC2086
  start simkubelet "$SIMKUBELET" --kubeconfig "$KUBECONFIG_PATH" --nodes "${SIM_NODES:-2}" ${SIMKUBELET_FLAGS:-}
else
  echo "  simkubelet: not built ($SIMKUBELET; make cluster-up builds it): pods will stay pending" >&2
fi

echo
echo "The local control plane is up ($("$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" version -o json | jq -r .serverVersion.gitVersion))."
echo "  export KUBECONFIG=$KUBECONFIG_PATH"
echo "  Logs: $LOCAL_DIR/logs/   Stop it with: make cluster-down"
