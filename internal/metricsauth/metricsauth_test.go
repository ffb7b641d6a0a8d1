package metricsauth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-logr/logr"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
)

// reviewer answers reviews as an API server would for two tokens: "reader" belongs to a user the
// metrics-reader role is bound to, "other" to one it is not; every other token is refused.
type reviewer struct {
	tokenReviews, accessReviews int
	fail                        bool
	lastAccess                  authzv1.SubjectAccessReviewSpec
}

func (r *reviewer) clientset() *fake.Clientset {
	cs := fake.NewClientset()
	cs.PrependReactor("create", "tokenreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r.tokenReviews++
		if r.fail {
			return true, nil, errors.New("the API server is unreachable")
		}
		tr := a.(k8stesting.CreateAction).GetObject().(*authnv1.TokenReview)
		switch tr.Spec.Token {
		case "reader":
			tr.Status = authnv1.TokenReviewStatus{Authenticated: true, User: authnv1.UserInfo{Username: "system:serviceaccount:monitoring:prometheus",
				UID: "u1", Groups: []string{"system:serviceaccounts"}, Extra: map[string]authnv1.ExtraValue{"scopes": {"a"}}}}
		case "other":
			tr.Status = authnv1.TokenReviewStatus{Authenticated: true, User: authnv1.UserInfo{Username: "system:serviceaccount:default:app"}}
		}
		return true, tr, nil
	})
	cs.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r.accessReviews++
		sar := a.(k8stesting.CreateAction).GetObject().(*authzv1.SubjectAccessReview)
		r.lastAccess = sar.Spec
		na := sar.Spec.NonResourceAttributes
		sar.Status.Allowed = sar.Spec.User == "system:serviceaccount:monitoring:prometheus" && na != nil && na.Path == "/metrics" && na.Verb == "get"
		if !sar.Status.Allowed {
			sar.Status.Reason = "no RBAC policy matched"
		}
		return true, sar, nil
	})
	return cs
}

func serve(t *testing.T, g *Guard, method, path, authorization string) int {
	t.Helper()
	h, err := g.Filter(logr.Discard(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("metrics")) }))
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(method, path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestFilterAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, method, path, authorization string
		want                              int
	}{
		{name: "no token", method: "GET", path: "/metrics", want: http.StatusUnauthorized},
		{name: "basic credentials", method: "GET", path: "/metrics", authorization: "Basic cmVhZGVyOng=", want: http.StatusUnauthorized},
		{name: "empty bearer", method: "GET", path: "/metrics", authorization: "Bearer ", want: http.StatusUnauthorized},
		{name: "refused token", method: "GET", path: "/metrics", authorization: "Bearer forged", want: http.StatusUnauthorized},
		{name: "user without the role", method: "GET", path: "/metrics", authorization: "Bearer other", want: http.StatusForbidden},
		{name: "reader", method: "GET", path: "/metrics", authorization: "Bearer reader", want: http.StatusOK},
		{name: "reader, scheme in lower case", method: "GET", path: "/metrics", authorization: "bearer reader", want: http.StatusOK},
		{name: "reader, another path", method: "GET", path: "/debug", authorization: "Bearer reader", want: http.StatusForbidden},
		{name: "reader, another verb", method: "POST", path: "/metrics", authorization: "Bearer reader", want: http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &reviewer{}
			cs := r.clientset()
			g := New(cs.AuthenticationV1().TokenReviews(), cs.AuthorizationV1().SubjectAccessReviews(), clocktesting.NewFakePassiveClock(time.Now()))
			if got := serve(t, g, tc.method, tc.path, tc.authorization); got != tc.want {
				t.Errorf("HTTP %d, want %d", got, tc.want)
			}
		})
	}
}

func TestAccessReviewCarriesTheWholeIdentity(t *testing.T) {
	r := &reviewer{}
	cs := r.clientset()
	g := New(cs.AuthenticationV1().TokenReviews(), cs.AuthorizationV1().SubjectAccessReviews(), clocktesting.NewFakePassiveClock(time.Now()))
	serve(t, g, "GET", "/metrics", "Bearer reader")
	got := r.lastAccess
	if got.User != "system:serviceaccount:monitoring:prometheus" || got.UID != "u1" || len(got.Groups) != 1 || got.Extra["scopes"][0] != "a" {
		t.Errorf("the access review asked about %+v, want the token's whole user", got)
	}
}

func TestAnswersAreCachedForTheirTTL(t *testing.T) {
	r := &reviewer{}
	cs := r.clientset()
	clk := clocktesting.NewFakePassiveClock(time.Now())
	g := New(cs.AuthenticationV1().TokenReviews(), cs.AuthorizationV1().SubjectAccessReviews(), clk)
	for range 10 {
		if got := serve(t, g, "GET", "/metrics", "Bearer reader"); got != http.StatusOK {
			t.Fatalf("HTTP %d, want 200", got)
		}
	}
	if r.tokenReviews != 1 || r.accessReviews != 1 {
		t.Fatalf("10 scrapes made %d token and %d access reviews, want 1 and 1", r.tokenReviews, r.accessReviews)
	}
	clk.SetTime(clk.Now().Add(TokenTTL + time.Second))
	serve(t, g, "GET", "/metrics", "Bearer reader")
	if r.tokenReviews != 2 || r.accessReviews != 1 {
		t.Errorf("past the token TTL: %d token and %d access reviews, want 2 and 1 (the allow is kept longer)", r.tokenReviews, r.accessReviews)
	}
	clk.SetTime(clk.Now().Add(AllowTTL))
	serve(t, g, "GET", "/metrics", "Bearer reader")
	if r.accessReviews != 2 {
		t.Errorf("past the allow TTL: %d access reviews, want 2", r.accessReviews)
	}

	// A refusal is kept only briefly.
	serve(t, g, "GET", "/metrics", "Bearer other")
	serve(t, g, "GET", "/metrics", "Bearer other")
	n := r.accessReviews
	clk.SetTime(clk.Now().Add(DenyTTL + time.Second))
	serve(t, g, "GET", "/metrics", "Bearer other")
	if r.accessReviews != n+1 {
		t.Errorf("past the deny TTL the refusal was not asked again (%d reviews, want %d)", r.accessReviews, n+1)
	}
}

func TestReviewFailureIsAnErrorNotARefusal(t *testing.T) {
	r := &reviewer{fail: true}
	cs := r.clientset()
	clk := clocktesting.NewFakePassiveClock(time.Now())
	g := New(cs.AuthenticationV1().TokenReviews(), cs.AuthorizationV1().SubjectAccessReviews(), clk)
	if got := serve(t, g, "GET", "/metrics", "Bearer reader"); got != http.StatusInternalServerError {
		t.Fatalf("HTTP %d while the API server is unreachable, want 500", got)
	}
	// The failure is not cached: the next scrape asks again and succeeds.
	r.fail = false
	if got := serve(t, g, "GET", "/metrics", "Bearer reader"); got != http.StatusOK {
		t.Errorf("HTTP %d once the API server answers, want 200", got)
	}
}

func TestCachesStayBounded(t *testing.T) {
	r := &reviewer{}
	cs := r.clientset()
	g := New(cs.AuthenticationV1().TokenReviews(), cs.AuthorizationV1().SubjectAccessReviews(), clocktesting.NewFakePassiveClock(time.Now()))
	for i := range 3 * maxEntries {
		serve(t, g, "GET", "/metrics", "Bearer forged-"+string(rune('a'+i%26))+time.Duration(i).String())
	}
	if n := len(g.users); n > maxEntries {
		t.Errorf("%d cached tokens after %d distinct ones, want at most %d", n, 3*maxEntries, maxEntries)
	}
}
