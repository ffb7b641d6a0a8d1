package controllers

import (
	"hash/maphash"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// deploymentView is what stepping a workload reads of its Deployment, as a comparable value. Its spec is read
// whole, but any spec change moves the generation; its labels and annotations (selection, pause, probe-tuner's
// records, the revision number) are read whole; of its status only whether it is rolling out.
//
// The Deployment controller updates a Deployment's status with every pod that becomes ready or not: its ready
// and available counts and conditions, which no step reads. Those updates are as many as the pod updates
// themselves, so neither a reconcile nor a fresh step follows from them (deploymentUpdateMatters).
type deploymentView struct {
	uid        types.UID
	generation int64
	rollingOut bool
	deleting   bool
	// metadata sums a hash of each label and annotation: equal maps give equal sums, in any order.
	metadata uint64
}

// viewOf returns what a step reads of d.
func viewOf(d *appsv1.Deployment) deploymentView {
	return deploymentView{
		uid:        d.UID,
		generation: d.Generation,
		rollingOut: rollingOut(d),
		deleting:   d.DeletionTimestamp != nil,
		metadata:   entriesHash(1, d.Labels) + entriesHash(2, d.Annotations),
	}
}

// viewSeed seeds the metadata hash; views are compared within one process only.
var viewSeed = maphash.MakeSeed()

// entriesHash sums a hash of each (tag, key, value): the tag keeps a label from hashing as an annotation.
func entriesHash(tag byte, m map[string]string) uint64 {
	var sum uint64
	var h maphash.Hash
	h.SetSeed(viewSeed)
	for k, v := range m {
		h.Reset()
		_ = h.WriteByte(tag)
		_, _ = h.WriteString(k)
		_ = h.WriteByte(0)
		_, _ = h.WriteString(v)
		sum += h.Sum64()
	}
	return sum
}

// deploymentUpdateMatters says whether an update changed what a step reads of the Deployment. An object that is
// not a Deployment matters.
func deploymentUpdateMatters(old, cur client.Object) bool {
	o, ok1 := old.(*appsv1.Deployment)
	c, ok2 := cur.(*appsv1.Deployment)
	if !ok1 || !ok2 {
		return true
	}
	return viewOf(o) != viewOf(c)
}
