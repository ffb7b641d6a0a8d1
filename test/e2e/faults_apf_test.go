//go:build e2e && faults

package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

// apfUser is the identity the operator's requests carry in the Priority and Fairness test: not in system:masters,
// whose requests are exempt from every limit.
const apfUser = "probe-tuner-apf"

// limitedLevel is a priority level of the given concurrency shares that lends none, borrows none and rejects what
// does not fit with 429; zero shares: no seat at all, every request is rejected.
func limitedLevel(shares int32) flowcontrolv1.PriorityLevelConfigurationSpec {
	return flowcontrolv1.PriorityLevelConfigurationSpec{Type: flowcontrolv1.PriorityLevelEnablementLimited,
		Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{NominalConcurrencyShares: ptr.To(shares), LendablePercent: ptr.To[int32](0),
			BorrowingLimitPercent: ptr.To[int32](0), LimitResponse: flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeReject}}}
}

// setShares changes the concurrency shares of apfUser's priority level, as a cluster administrator may.
func setShares(t *testing.T, cs kubernetes.Interface, shares int32) {
	t.Helper()
	fc := cs.FlowcontrolV1().PriorityLevelConfigurations()
	level, err := fc.Get(background, apfUser, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	level.Spec = limitedLevel(shares)
	if _, err := fc.Update(background, level, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// limitedFlow puts every request of apfUser into a priority level of its own (limitedLevel, 10 shares to begin
// with): API Priority and Fairness limiting the operator's flow schema, as a cluster administrator may.
func limitedFlow(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	level := &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: metav1.ObjectMeta{Name: apfUser}, Spec: limitedLevel(10)}
	schema := &flowcontrolv1.FlowSchema{
		ObjectMeta: metav1.ObjectMeta{Name: apfUser},
		Spec: flowcontrolv1.FlowSchemaSpec{
			PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: apfUser},
			MatchingPrecedence:         100, // before every suggested schema but exempt's
			DistinguisherMethod:        &flowcontrolv1.FlowDistinguisherMethod{Type: flowcontrolv1.FlowDistinguisherMethodByUserType},
			Rules: []flowcontrolv1.PolicyRulesWithSubjects{{
				Subjects: []flowcontrolv1.Subject{{Kind: flowcontrolv1.SubjectKindUser, User: &flowcontrolv1.UserSubject{Name: apfUser}}},
				ResourceRules: []flowcontrolv1.ResourcePolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"},
					ClusterScope: true, Namespaces: []string{"*"}}},
				NonResourceRules: []flowcontrolv1.NonResourcePolicyRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}},
			}},
		},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: apfUser},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: apfUser}},
	}
	fc := cs.FlowcontrolV1()
	if _, err := fc.PriorityLevelConfigurations().Create(background, level, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := fc.FlowSchemas().Create(background, schema, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(background, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = fc.FlowSchemas().Delete(background, apfUser, metav1.DeleteOptions{})
		_ = fc.PriorityLevelConfigurations().Delete(background, apfUser, metav1.DeleteOptions{})
		_ = cs.RbacV1().ClusterRoleBindings().Delete(background, apfUser, metav1.DeleteOptions{})
	})
}

// flowCounts reads the API server's count of requests of apfUser's flow schema dispatched and rejected.
func flowCounts(t *testing.T, cs kubernetes.Interface) (dispatched, rejected float64) {
	t.Helper()
	raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(background)
	if err != nil {
		t.Fatalf("reading the API server's metrics: %v", err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.Contains(line, `flow_schema="`+apfUser+`"`) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		switch {
		case err != nil:
		case strings.HasPrefix(line, "apiserver_flowcontrol_dispatched_requests_total{"):
			dispatched += v
		case strings.HasPrefix(line, "apiserver_flowcontrol_rejected_requests_total{"):
			rejected += v // whatever the reason label
		}
	}
	return dispatched, rejected
}

// i. API Priority and Fairness starves the operator's flow schema (the operator's identity reaches the API server
// through a proxy that impersonates apfUser): once the operator runs, its priority level is cut to zero seats for
// two minutes, every request rejected with 429 while the crash loop's evidence comes in over the established
// watches; then it gets its seats back. The operator retries, tunes both workloads once each, records each
// decision once, and crashes not.
func TestFaultPriorityAndFairness(t *testing.T) {
	e := newFaultEnv(t, "fault-apf")
	cs := kubernetes.NewForConfigOrDie(cluster.Config)
	limitedFlow(t, cs)
	e.create(crashLoopDeployment(e.ns, "loader", "apf", 2))
	e.create(flappingDeployment(e.ns, "api", "apf"))
	e.create(faultPolicy(e.ns, "apf", "apf"))

	as := rest.CopyConfig(cluster.Config)
	as.Impersonate = rest.ImpersonationConfig{UserName: apfUser, Groups: []string{"system:authenticated"}}
	proxy := newThrottlingProxy(t, as) // neither slow nor throttling: the API server's own limits do it
	op := startOperatorProcess(t, "manager-fault-apf", []string{"KUBECONFIG=" + proxy.kubeconfig(t)})
	eventually(t, 3*time.Minute, func() error {
		if code := op.httpStatus("/readyz"); code != http.StatusOK {
			return fmt.Errorf("/readyz: %d", code)
		}
		return nil
	})
	setShares(t, cs, 0)
	time.Sleep(2 * time.Minute)
	if !op.alive() {
		t.Fatalf("the operator exited while starved:\n%s", op.log())
	}
	_, starved := flowCounts(t, cs)
	setShares(t, cs, 10)
	t.Logf("starved for 2 minutes: %.0f requests rejected", starved)
	eventually(t, 8*time.Minute, func() error {
		p := e.policy("apf")
		for _, name := range []string{"loader", "api"} {
			if len(appliedIDs(p, name)) == 0 {
				dispatched, rejected := flowCounts(t, cs)
				return fmt.Errorf("%s: no Applied decision yet (the flow schema dispatched %.0f requests, rejected %.0f)", name, dispatched, rejected)
			}
		}
		return nil
	})
	dispatched, rejected := flowCounts(t, cs)
	if dispatched == 0 || starved == 0 {
		t.Fatalf("the limit did not bite: the flow schema dispatched %.0f requests and rejected %.0f while starved", dispatched, starved)
	}
	t.Logf("API Priority and Fairness dispatched %.0f of the operator's requests and rejected %.0f with 429", dispatched, rejected)
	time.Sleep(time.Minute) // time for a retried write to land twice, if it would
	p := e.policy("apf")
	checkNoDuplicateDecisions(t, p)
	for _, name := range []string{"loader", "api"} {
		e.checkOneRolloutPerDecision(p, name, 1)
	}
	checkOperatorHealthy(t, op)
}
