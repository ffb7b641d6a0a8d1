package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CheckpointWriter writes a checkpoint ConfigMap with server-side apply, as probe-tuner's field manager, taking
// the fields over from any other manager (a hand edit of a checkpoint is not kept).
type CheckpointWriter interface {
	ApplyCheckpoint(ctx context.Context, cm *corev1ac.ConfigMapApplyConfiguration) error
}

// ClientCheckpointWriter applies through a controller-runtime client, which decodes the API server's answer.
type ClientCheckpointWriter struct{ Client client.Writer }

func (w ClientCheckpointWriter) ApplyCheckpoint(ctx context.Context, cm *corev1ac.ConfigMapApplyConfiguration) error {
	return w.Client.Apply(ctx, cm, client.FieldOwner(FieldManager), client.ForceOwnership)
}

// restCheckpointWriter applies with a REST client and reads back only whether the write succeeded. The answer
// is the whole ConfigMap, the checkpoint a JSON document escaped in a JSON string: decoding it was a quarter of
// what a checkpoint write allocated, for nothing (the state the checkpoint holds is in memory already).
type restCheckpointWriter struct{ rest rest.Interface }

// NewCheckpointWriter returns the CheckpointWriter the manager's controllers use: JSON over the manager's HTTP
// client (its connections and credentials), with cfg's rate limits.
func NewCheckpointWriter(cfg *rest.Config, httpClient *http.Client, scheme *runtime.Scheme) (CheckpointWriter, error) {
	rc, err := jsonRESTClient(cfg, httpClient, scheme, corev1.SchemeGroupVersion, "/api")
	if err != nil {
		return nil, fmt.Errorf("creating the checkpoint client: %w", err)
	}
	return restCheckpointWriter{rest: rc}, nil
}

func (w restCheckpointWriter) ApplyCheckpoint(ctx context.Context, cm *corev1ac.ConfigMapApplyConfiguration) error {
	if cm.Name == nil || *cm.Name == "" || cm.Namespace == nil || *cm.Namespace == "" {
		return fmt.Errorf("a checkpoint ConfigMap to apply needs a name and a namespace")
	}
	body, err := json.Marshal(cm)
	if err != nil {
		return fmt.Errorf("encoding the checkpoint ConfigMap: %w", err)
	}
	// Error decodes the answer only when it is an error (a Status).
	return w.rest.Patch(types.ApplyPatchType).Namespace(*cm.Namespace).Resource("configmaps").Name(*cm.Name).
		Param("fieldManager", FieldManager).Param("force", "true").Body(body).Do(ctx).Error()
}
