//go:build tools

// Package tools pins the Kubernetes commands this module builds, so `go mod tidy` keeps their requirements.
package tools

import (
	_ "k8s.io/kubectl/pkg/cmd"
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)
