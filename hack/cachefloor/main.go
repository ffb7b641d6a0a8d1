// Command cachefloor is the floor of the scale benchmark (make bench-scale): a bare controller-runtime manager
// whose only work is an informer caching every Pod of the cluster, unfiltered and untransformed, with
// controller-runtime's metrics (Go memory statistics included) on plain HTTP. What probe-tuner's operator uses
// beyond this is the price of what it does with the pods.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

func main() {
	metricsAddr := flag.String("metrics-bind-address", "127.0.0.1:8090", "Serve the metrics on http://ADDR/metrics.")
	pprofAddr := flag.String("pprof-bind-address", "", "Serve /debug/pprof on this address; empty disables it.")
	flag.Parse()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The same client setting as the operator's default (--kube-api-compression=false): the floor pays for what
	// caching pods costs, not for decompressing them.
	cfg := ctrl.GetConfigOrDie()
	cfg.DisableCompression = true
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 s,
		Metrics:                metricsserver.Options{BindAddress: *metricsAddr},
		HealthProbeBindAddress: "0",
		PprofBindAddress:       *pprofAddr,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Ask for the Pod informer once the cache runs, so that every Pod is listed and watched.
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		if _, err := mgr.GetCache().GetInformer(ctx, &corev1.Pod{}); err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	})); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
