# probe-tuner's build, test and local-cluster targets. `make help` lists them.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

LOCALBIN ?= $(CURDIR)/bin
# The locally built control plane (etcd, kube-apiserver, kube-controller-manager, kubectl); also envtest's assets.
K8S_BIN ?= $(LOCALBIN)/k8s
KUBECONFIG_LOCAL ?= $(LOCALBIN)/local/kubeconfig
KUBECTL ?= $(K8S_BIN)/kubectl

CONTROLLER_TOOLS_VERSION ?= v0.23.0
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen

IMG ?= ghcr.io/probetuner/probe-tuner:latest
GO_TEST_FLAGS ?=

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-16s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the CRD and RBAC manifests from the API markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/..." paths="./controllers/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: controller-gen ## Generate deepcopy code for the API types.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run gofmt on the module.
	gofmt -l -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: verify-generated
verify-generated: manifests generate ## Fail when generated files are out of date.
	@git diff --exit-code -- config/crd config/rbac api || { echo "generated files are stale: run 'make manifests generate' and commit"; exit 1; }

##@ Test

# A count, not a duration: a duration-based -fuzztime can fail with a spurious "context deadline exceeded" when
# the deadline races a busy worker (golang/go#75804, fixed in Go 1.27). 150000 runs take ~10 s here.
FUZZ_TIME ?= 150000x

.PHONY: test
test: vet control-plane ## Run unit tests, integration tests against a real local kube-apiserver, and a short fuzz run.
	KUBEBUILDER_ASSETS=$(K8S_BIN) go test $(GO_TEST_FLAGS) ./... -count=1
	cd hack/nodeimages && go vet ./... && go test $(GO_TEST_FLAGS) ./... -count=1
	$(MAKE) test-dashboard
	$(MAKE) test-peers
	$(MAKE) fuzz

.PHONY: test-dashboard
test-dashboard: ## Check every query of config/grafana's dashboard against the metrics the operator exports (test/dashboard, its own module).
	cd test/dashboard && go vet ./... && go test $(GO_TEST_FLAGS) ./... -count=1

KUBE_SCORE_VERSION ?= v1.20.0
KUBE_SCORE ?= $(LOCALBIN)/kube-score

.PHONY: kube-score
kube-score: ## Build kube-score from the Go module proxy into bin/ (only when missing or of another version).
	hack/build-tool.sh $(LOCALBIN) kube-score github.com/zegl/kube-score/cmd/kube-score $(KUBE_SCORE_VERSION)

.PHONY: test-peers
test-peers: kube-score ## Run kube-score's probe checks beside the audit on test/audit; check the README's side-by-side table.
	KUBE_SCORE=$(KUBE_SCORE) go test -tags peers $(GO_TEST_FLAGS) ./test/peers -count=1

.PHONY: fuzz
fuzz: ## Fuzz for FUZZ_TIME: the recommender's invariants, the audit's decoding, the last-change and previous-probes parsers, the checkpoint decoder and the policy spec's string fields.
	go test -run '^$$' -fuzz FuzzRecommendInvariants -fuzztime $(FUZZ_TIME) ./internal/recommend
	go test -run '^$$' -fuzz FuzzDecodeAndAudit -fuzztime $(FUZZ_TIME) ./internal/audit
	go test -run '^$$' -fuzz FuzzParseLastChange -fuzztime $(FUZZ_TIME) ./internal/apply
	go test -run '^$$' -fuzz FuzzParsePrevious -fuzztime $(FUZZ_TIME) ./internal/apply
	go test -run '^$$' -fuzz FuzzDecodeCheckpoint -fuzztime $(FUZZ_TIME) ./controllers
	go test -run '^$$' -fuzz FuzzResolveStrings -fuzztime $(FUZZ_TIME) ./internal/policy

.PHONY: test-unit
test-unit: ## Run only the tests that need no API server.
	go test $(GO_TEST_FLAGS) $$(go list ./... | grep -v -E '/test/(e2e|integration|simkubelet)$$|/harness/localcluster$$') -count=1

.PHONY: test-e2e
test-e2e: control-plane build helm ## Run the end-to-end tests on a local control plane with the simulated kubelet (and a helm install of dist/chart).
	KUBEBUILDER_ASSETS=$(K8S_BIN) HELM=$(HELM) go test -tags e2e ./test/e2e/... -count=1 -v -timeout 20m

.PHONY: test-e2e-real
test-e2e-real: control-plane node-binaries ## Run the end-to-end tests on a real node (root; containerd and a real kubelet, the operator as pods from config/default).
	KUBEBUILDER_ASSETS=$(K8S_BIN) go test -tags e2e,realnode ./test/e2e/ -run 'TestRealNode' -count=1 -v -timeout 30m

##@ Build

.PHONY: build
build: ## Build the manager and the command-line tools into bin/.
	go build -o $(LOCALBIN)/ ./cmd/... ./test/harness/cmd/...

.PHONY: run
run: ## Run the operator against the cluster KUBECONFIG points at, metrics on http://127.0.0.1:8080/metrics.
	go run ./cmd/manager --metrics-bind-address=127.0.0.1:8080 --metrics-secure=false --health-probe-bind-address=127.0.0.1:8081

.PHONY: docker-build
docker-build: ## Build the container image (needs a Docker engine).
	docker build -t $(IMG) .

##@ Local cluster

.PHONY: control-plane
control-plane: ## Build etcd, kube-apiserver, kube-controller-manager and kubectl into bin/k8s (only what is missing).
	hack/build-controlplane.sh $(K8S_BIN)

# NODE=real: a real kubelet with containerd instead of the simulated kubelet (root; docs/real-node.md).
NODE ?= sim
NODE_BIN ?= $(LOCALBIN)/k8s-node
ifeq ($(NODE),real)
CLUSTER_NODE_DEPS := node-binaries
else
CLUSTER_NODE_DEPS := simkubelet
endif

.PHONY: cluster-up
cluster-up: control-plane $(CLUSTER_NODE_DEPS) ## Start the local control plane and the simulated kubelet (NODE=real: containerd and a real kubelet); the kubeconfig is bin/local/kubeconfig.
	NODE=$(NODE) NODE_BIN=$(NODE_BIN) hack/cluster-up.sh

.PHONY: node-binaries
node-binaries: ## Build kubelet, kube-scheduler, containerd and the image tools for NODE=real into bin/k8s-node (only what is missing).
	hack/build-node.sh $(NODE_BIN)

.PHONY: simkubelet
simkubelet: ## Build the simulated kubelet into bin/simkubelet.
	go build -o $(LOCALBIN)/simkubelet ./test/harness/cmd/simkubelet

.PHONY: test-fidelity
test-fidelity: control-plane node-binaries ## Run test/fidelity/*.yaml in the simulator and on the real node (root), compare them into bin/fidelity.json (docs/fidelity.md).
	test/fidelity/run.sh

.PHONY: cluster-down
cluster-down: ## Stop the local control plane (and a real node: restoring the host) and remove its state.
	NODE_BIN=$(NODE_BIN) hack/cluster-down.sh

.PHONY: install
install: manifests ## Install the CRD into the cluster KUBECONFIG points at.
	$(KUBECTL) apply -k config/crd

.PHONY: demo
demo: ## Run probe-tuner on a local control plane with demo workloads, narrated; Ctrl-C stops everything (NODE=real: real containers, as root).
	NODE=$(NODE) NODE_BIN=$(NODE_BIN) hack/demo.sh

.PHONY: bench-quality
bench-quality: ## Score the tuning in virtual time (baseline, tuned, oracle) on the public suite, then on 330 generated scenarios (seed 1).
	go build -o $(LOCALBIN)/probebench ./test/harness/cmd/probebench
	$(LOCALBIN)/probebench -f test/scenarios
	rm -rf $(LOCALBIN)/generated-scenarios
	$(LOCALBIN)/probebench gen --family all --count 330 --seed 1 -o $(LOCALBIN)/generated-scenarios
	$(LOCALBIN)/probebench -f $(LOCALBIN)/generated-scenarios

.PHONY: bench-scale
bench-scale: control-plane ## Measure memory, CPU and latency at scale on the local control plane (SCALE=N Deployments, default 1000).
	KUBEBUILDER_ASSETS=$(K8S_BIN) go run ./test/harness/cmd/benchscale $(if $(SCALE),-n $(SCALE),) $(if $(WINDOW),-window $(WINDOW),)

SOAK ?= 60m

.PHONY: soak
soak: control-plane ## Soak the operator for SOAK (default 60m) under 1,000 Deployments with churn; fails on heap or goroutine growth or stale metric series (bin/soak.json).
	KUBEBUILDER_ASSETS=$(K8S_BIN) go run ./test/harness/cmd/benchscale -soak $(SOAK) $(if $(SCALE),-n $(SCALE),)

.PHONY: test-faults
test-faults: control-plane build ## Run only the end-to-end fault tests (operator kills, leader election, API server outage, conflicts, selection, odd workloads, bad objects, throttling, API Priority and Fairness, shutdown).
	KUBEBUILDER_ASSETS=$(K8S_BIN) go test -tags e2e,faults ./test/e2e/ -run 'TestFault' -count=1 -v -timeout 45m

##@ Tools

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Install controller-gen into bin/.
$(CONTROLLER_GEN):
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)

##@ Chart and monitoring

HELM_VERSION ?= v4.3.2
HELM ?= $(LOCALBIN)/helm
PROMETHEUS_VERSION ?= v0.316.0
PROMTOOL ?= $(LOCALBIN)/promtool
CHART_DIR ?= dist/chart

.PHONY: helm
helm: ## Build helm from the Go module proxy into bin/ (only when missing or of another version).
	hack/build-tool.sh $(LOCALBIN) helm helm.sh/helm/v4/cmd/helm $(HELM_VERSION)

.PHONY: promtool
promtool: ## Build promtool from the Go module proxy into bin/ (only when missing or of another version).
	hack/build-tool.sh $(LOCALBIN) promtool github.com/prometheus/prometheus/cmd/promtool $(PROMETHEUS_VERSION)

.PHONY: chart
chart: manifests ## Copy into dist/chart/files what the chart takes from config/ (CRD, manager rules, alerts, dashboard).
	mkdir -p $(CHART_DIR)/files/crd $(CHART_DIR)/files/rbac $(CHART_DIR)/files/prometheus $(CHART_DIR)/files/grafana
	cp config/crd/bases/tuning.probetuner.io_probepolicies.yaml $(CHART_DIR)/files/crd/
	cp config/rbac/role.yaml $(CHART_DIR)/files/rbac/role.yaml
	cp config/prometheus/alerts.yaml $(CHART_DIR)/files/prometheus/alerts.yaml
	cp config/grafana/probe-tuner-dashboard.json $(CHART_DIR)/files/grafana/probe-tuner-dashboard.json

.PHONY: verify-chart
verify-chart: chart helm ## Fail when dist/chart disagrees with config/, or helm lint fails.
	@git diff --exit-code -- $(CHART_DIR) && test -z "$$(git status --porcelain -- $(CHART_DIR))" || { echo "dist/chart is stale: run 'make chart' and commit"; exit 1; }
	$(HELM) lint $(CHART_DIR)

.PHONY: test-alerts
test-alerts: promtool ## Unit-test the alerts of config/prometheus with promtool (test/prometheus).
	mkdir -p $(LOCALBIN)/prometheus
	# promtool reads a plain rule file: the PrometheusRule's spec.
	go run ./hack/rulefile config/prometheus/alerts.yaml > $(LOCALBIN)/prometheus/alerts.rules.yaml
	$(PROMTOOL) check rules $(LOCALBIN)/prometheus/alerts.rules.yaml
	$(PROMTOOL) test rules test/prometheus/*.yaml

.PHONY: test-chart
test-chart: helm ## Lint dist/chart and check what it renders for default, namespace-scoped and monitoring values.
	$(HELM) lint $(CHART_DIR)
	HELM=$(HELM) go test -tags chart ./test/chart/ -count=1 -v
