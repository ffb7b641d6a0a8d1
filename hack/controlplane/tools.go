//go:build tools

// Package tools pins the Kubernetes commands this module builds, so `go mod tidy` keeps their requirements.
// kubelet and kube-scheduler are built only for the real node (hack/build-node.sh).
package tools

import (
	_ "k8s.io/kubectl/pkg/cmd"
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	_ "k8s.io/kubernetes/cmd/kube-scheduler/app"
	_ "k8s.io/kubernetes/cmd/kubelet/app"
)
