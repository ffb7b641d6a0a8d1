// Package builders makes the Kubernetes objects probe-tuner's tests use: ProbePolicies, Deployments, Pods,
// containers and probes, built in chained calls that end in Obj():
//
//	builders.MakePolicy("caches", ns).Selector("tier", "cache").Mode(tuningv1alpha1.ModeAuto).Obj()
//	builders.MakeDeployment("cache", ns).Replicas(2).Sim("startup", "45s").
//		Container(builders.MakeContainer("app", "example.com/app:1").
//			Probe(builders.MakeProbe(builders.Liveness).HTTPGet("/healthz", 8080).Period(2).FailureThreshold(2)).
//			Obj()).
//		Obj()
//
// A builder sets only what it is told, plus what every object of its kind needs (a Deployment's app label,
// selector and template labels): the API server fills in the defaults as it would for a user's manifest. The
// simulator's behaviour (docs/simulator.md) comes from sim.probetuner.io/* annotations on the pod template, which
// Sim, SimFor and PodAnnotation set.
//
// The package depends on the API types only (api/v1alpha1, k8s.io/api and apimachinery's meta types), not on
// testing, so that test helpers, the harness and commands can all build with it.
package builders
