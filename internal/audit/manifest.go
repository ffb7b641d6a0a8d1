package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// DocumentError is a manifest document that could not be read; Document counts from 1 within Source.
type DocumentError struct {
	Source   string
	Document int
	Err      error
}

func (e *DocumentError) Error() string {
	return fmt.Sprintf("%s: document %d: %v", e.Source, e.Document, e.Err)
}

func (e *DocumentError) Unwrap() error { return e.Err }

// Decode reads the workloads of a YAML (or JSON) stream of one or more documents: Deployments, StatefulSets,
// DaemonSets and Pods, and the items of a List. Objects of other kinds, and empty documents, are skipped.
// source names the stream in the workloads and in errors.
func Decode(source string, r io.Reader) ([]Workload, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var out []Workload
	for doc := 1; ; doc++ {
		data, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, &DocumentError{Source: source, Document: doc, Err: err}
		}
		ws, err := decodeDocument(source, data)
		if err != nil {
			return nil, &DocumentError{Source: source, Document: doc, Err: err}
		}
		out = append(out, ws...)
	}
}

// decodeDocument reads one document; nil for an empty document or an object of a kind without pods.
func decodeDocument(source string, data []byte) ([]Workload, error) {
	if len(bytes.TrimSpace(stripComments(data))) == 0 {
		return nil, nil
	}
	// Strict about duplicate keys (two files concatenated without ---, a key given twice: kubectl rejects them
	// too), lenient about unknown fields, which a newer API version may have.
	data, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, err
	}
	var meta metav1.TypeMeta
	if err := json.Unmarshal(data, &meta); err != nil {
		return nil, err
	}
	switch meta.Kind {
	case "List":
		var list struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, err
		}
		var out []Workload
		for i, item := range list.Items {
			ws, err := decodeDocument(source, item)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out = append(out, ws...)
		}
		return out, nil
	case "Deployment":
		return decodeAs(source, meta.Kind, data, func(o *appsv1.Deployment) (metav1.ObjectMeta, corev1.PodSpec) {
			return o.ObjectMeta, o.Spec.Template.Spec
		})
	case "StatefulSet":
		return decodeAs(source, meta.Kind, data, func(o *appsv1.StatefulSet) (metav1.ObjectMeta, corev1.PodSpec) {
			return o.ObjectMeta, o.Spec.Template.Spec
		})
	case "DaemonSet":
		return decodeAs(source, meta.Kind, data, func(o *appsv1.DaemonSet) (metav1.ObjectMeta, corev1.PodSpec) {
			return o.ObjectMeta, o.Spec.Template.Spec
		})
	case "Pod":
		return decodeAs(source, meta.Kind, data, func(o *corev1.Pod) (metav1.ObjectMeta, corev1.PodSpec) { return o.ObjectMeta, o.Spec })
	case "":
		return nil, errors.New("not a Kubernetes object: no kind")
	}
	return nil, nil
}

// decodeAs unmarshals data (JSON) as a T, an object of that kind, and makes it a workload of the metadata and pod spec
// that parts returns.
func decodeAs[T any](source, kind string, data []byte, parts func(*T) (metav1.ObjectMeta, corev1.PodSpec)) ([]Workload, error) {
	obj := new(T)
	if err := json.Unmarshal(data, obj); err != nil {
		return nil, err
	}
	meta, spec := parts(obj)
	return []Workload{{Kind: kind, Namespace: meta.Namespace, Name: meta.Name, Source: source, Spec: spec}}, nil
}

// stripComments drops the lines that are only a YAML comment, so a document of comments counts as empty.
func stripComments(data []byte) []byte {
	var out [][]byte
	for _, line := range bytes.Split(data, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(out, line)
		}
	}
	return bytes.Join(out, []byte("\n"))
}
