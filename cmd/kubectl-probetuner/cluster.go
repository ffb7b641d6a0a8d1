package main

import (
	"errors"
	"flag"
	"fmt"

	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/probetuner/probe-tuner/internal/scheme"
)

// clusterFlags are the flags of the subcommands that read a cluster, as kubectl reads them.
type clusterFlags struct {
	kubeconfig string
	context    string
	namespace  string
}

func (c *clusterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "the kubeconfig `file` (default: $KUBECONFIG, then ~/.kube/config)")
	fs.StringVar(&c.context, "context", "", "the kubeconfig `context` to use (default: its current context)")
	fs.StringVar(&c.namespace, "n", "", "the `namespace` (default: the context's namespace, else \"default\")")
	fs.StringVar(&c.namespace, "namespace", "", "the same as -n")
}

// errNoKubeconfig is the error when no kubeconfig is found or it names no cluster.
var errNoKubeconfig = errors.New("no kubeconfig: set KUBECONFIG, pass --kubeconfig FILE, or create ~/.kube/config (kubectl config view shows what kubectl uses)")

// connect returns a client for the cluster of the kubeconfig and the namespace to use: -n, else the context's
// namespace, else "default", like kubectl.
func (c *clusterFlags) connect() (client.Client, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = c.kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: c.context}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, "", fmt.Errorf("reading the kubeconfig: %w", err)
	}
	if len(raw.Clusters) == 0 {
		return nil, "", errNoKubeconfig
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, "", errNoKubeconfig
		}
		return nil, "", fmt.Errorf("the kubeconfig: %w", err)
	}
	ns := c.namespace
	if ns == "" {
		if ns, _, err = cc.Namespace(); err != nil {
			return nil, "", fmt.Errorf("the kubeconfig's namespace: %w", err)
		}
	}
	cl, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		return nil, "", fmt.Errorf("a client for %s: %w", cfg.Host, err)
	}
	return cl, ns, nil
}
