// Package controllers holds probe-tuner's reconcilers. They are thin: they gather objects from the API server,
// hand them to the pure packages under internal/ to decide, and write the results back.
package controllers

import (
	"fmt"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller"
)

// FieldManager is the server-side apply field manager probe-tuner writes with, in its own objects and in the
// Deployments it tunes.
const FieldManager = "probe-tuner"

// Options configure the controllers.
type Options struct {
	// MaxConcurrentReconciles is the number of workers per controller.
	MaxConcurrentReconciles int
	// Clock is the time source; the real clock when nil.
	Clock clock.PassiveClock
	// SkipNameValidation lets tests register the controllers in several managers of one process.
	SkipNameValidation bool
}

func (o Options) controllerOptions() controller.Options {
	return controller.Options{MaxConcurrentReconciles: o.MaxConcurrentReconciles, SkipNameValidation: &o.SkipNameValidation}
}

// SetupWithManager registers every probe-tuner controller with mgr.
func SetupWithManager(mgr ctrl.Manager, opts Options) error {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	r := &ProbePolicyReconciler{
		Client: mgr.GetClient(),
		Clock:  opts.Clock,
	}
	if err := r.SetupWithManager(mgr, opts.controllerOptions()); err != nil {
		return fmt.Errorf("probepolicy controller: %w", err)
	}
	return nil
}
