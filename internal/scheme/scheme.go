// Package scheme builds the runtime.Scheme shared by the manager, the tools and the tests: the built-in
// Kubernetes types and probe-tuner's API.
package scheme

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// New returns a scheme with the built-in types and tuning.probetuner.io/v1alpha1.
func New() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(tuningv1alpha1.AddToScheme(s))
	return s
}
