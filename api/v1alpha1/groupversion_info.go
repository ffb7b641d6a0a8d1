// Package v1alpha1 contains the v1alpha1 API of the tuning.probetuner.io group: the ProbePolicy resource, which
// selects Deployments and bounds how probe-tuner may tune their liveness, readiness and startup probes.
//
// +kubebuilder:object:generate=true
// +groupName=tuning.probetuner.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every type in this package.
	GroupVersion = schema.GroupVersion{Group: "tuning.probetuner.io", Version: "v1alpha1"}

	// SchemeBuilder registers the package's types with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the package's types to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
