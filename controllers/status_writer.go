package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// StatusWriter writes a ProbePolicy's status whole: an update of its status subresource, guarded by the
// resourceVersion it was computed from, so that a lost race comes back as a Conflict.
type StatusWriter interface {
	WriteStatus(ctx context.Context, pol *tuningv1alpha1.ProbePolicy) error
}

// clientStatusWriter writes through a controller-runtime client, which decodes the API server's answer into pol.
type clientStatusWriter struct{ c client.Client }

func (w clientStatusWriter) WriteStatus(ctx context.Context, pol *tuningv1alpha1.ProbePolicy) error {
	return w.c.Status().Update(ctx, pol, client.FieldOwner(FieldManager))
}

// restStatusWriter writes with a REST client and reads back only whether the write succeeded. The API server
// answers an update with the whole policy, and decoding that JSON cost as much CPU as encoding the request:
// nothing reads it, since the next reconcile reads the policy from the cache, which the watch brings up to date
// (and a reconcile on a copy older than the write loses the race and retries, as before).
type restStatusWriter struct{ rest rest.Interface }

// NewStatusWriter returns the StatusWriter the manager's controllers use: JSON over the manager's HTTP client
// (its connections and credentials), with cfg's rate limits.
func NewStatusWriter(cfg *rest.Config, httpClient *http.Client, scheme *runtime.Scheme) (StatusWriter, error) {
	rc, err := jsonRESTClient(cfg, httpClient, scheme, tuningv1alpha1.GroupVersion, "/apis")
	if err != nil {
		return nil, fmt.Errorf("creating the ProbePolicy status client: %w", err)
	}
	return restStatusWriter{rest: rc}, nil
}

// jsonRESTClient returns a REST client of one API group version speaking JSON over the manager's HTTP client,
// with cfg's rate limits.
func jsonRESTClient(cfg *rest.Config, httpClient *http.Client, scheme *runtime.Scheme, gv schema.GroupVersion, apiPath string) (*rest.RESTClient, error) {
	c := rest.CopyConfig(cfg)
	c.GroupVersion = &gv
	c.APIPath = apiPath
	c.ContentType, c.AcceptContentTypes = runtime.ContentTypeJSON, runtime.ContentTypeJSON
	c.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	return rest.RESTClientForConfigAndClient(c, httpClient)
}

func (w restStatusWriter) WriteStatus(ctx context.Context, pol *tuningv1alpha1.ProbePolicy) error {
	// A shallow copy, to name the kind without touching the caller's object (a policy read from the cache has
	// no type meta).
	out := *pol
	out.APIVersion, out.Kind = tuningv1alpha1.GroupVersion.String(), "ProbePolicy"
	body, err := json.Marshal(&out)
	if err != nil {
		return fmt.Errorf("encoding the status: %w", err)
	}
	// Error decodes the answer only when it is an error: a Status, such as a Conflict.
	return w.rest.Put().Namespace(pol.Namespace).Resource("probepolicies").Name(pol.Name).SubResource("status").
		Param("fieldManager", FieldManager).Body(body).Do(ctx).Error()
}
