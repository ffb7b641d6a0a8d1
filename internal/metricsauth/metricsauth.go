// Package metricsauth guards the metrics endpoint the way the API server guards its own: a request must carry a
// bearer token the API server accepts (TokenReview), whose user may get the path (SubjectAccessReview on a
// non-resource URL, which the metrics-reader ClusterRole grants). Both answers are cached for a while, so a
// Prometheus scraping every 15 s costs the API server two reviews every few minutes, not two per scrape.
//
// It replaces controller-runtime's metrics filters, which bring in k8s.io/apiserver and, through it, CEL, gRPC
// and OpenTelemetry: half of the manager's binary and some 16 MiB of its resident memory before it watches
// anything.
package metricsauth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	authnclient "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authzclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// How long answers are kept: an accepted token or an allowed user is trusted for a while (a revoked binding
// takes at most AllowTTL to take effect, as with the API server's own webhook authorizer); a refusal is kept
// briefly, so that a scraper being fixed is not refused for long.
const (
	TokenTTL      = time.Minute
	AllowTTL      = 5 * time.Minute
	DenyTTL       = 30 * time.Second
	reviewTimeout = 10 * time.Second
	// maxEntries bounds each cache: a client sending a new token with every request must not grow memory.
	maxEntries = 1024
)

// Provider is a metricsserver.Options.FilterProvider.
func Provider(cfg *rest.Config, httpClient *http.Client) (metricsserver.Filter, error) {
	authn, err := authnclient.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("creating the TokenReview client: %w", err)
	}
	authz, err := authzclient.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("creating the SubjectAccessReview client: %w", err)
	}
	g := New(authn.TokenReviews(), authz.SubjectAccessReviews(), clock.RealClock{})
	return g.Filter, nil
}

// Guard authenticates and authorises requests, caching the API server's answers.
type Guard struct {
	tokens  authnclient.TokenReviewInterface
	access  authzclient.SubjectAccessReviewInterface
	clock   clock.PassiveClock
	mu      sync.Mutex
	users   map[[sha256.Size]byte]cachedUser
	allowed map[string]cachedDecision
}

type cachedUser struct {
	user    *authnv1.UserInfo // nil: the token was refused
	expires time.Time
}

type cachedDecision struct {
	allowed bool
	reason  string
	expires time.Time
}

// New returns a Guard asking the given review clients.
func New(tokens authnclient.TokenReviewInterface, access authzclient.SubjectAccessReviewInterface, clk clock.PassiveClock) *Guard {
	return &Guard{tokens: tokens, access: access, clock: clk,
		users: map[[sha256.Size]byte]cachedUser{}, allowed: map[string]cachedDecision{}}
}

// Filter is a metricsserver.Filter: it wraps handler so that only authenticated, authorised requests reach it.
func (g *Guard) Filter(log logr.Logger, handler http.Handler) (http.Handler, error) {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		token, ok := bearerToken(req)
		if !ok {
			http.Error(w, "Unauthorized: a bearer token is required", http.StatusUnauthorized)
			return
		}
		ctx, cancel := context.WithTimeout(req.Context(), reviewTimeout)
		defer cancel()
		user, err := g.authenticate(ctx, token)
		if err != nil {
			log.Error(err, "Reviewing a metrics client's token failed")
			http.Error(w, "Authentication failed", http.StatusInternalServerError)
			return
		}
		if user == nil {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		verb := strings.ToLower(req.Method)
		allowed, reason, err := g.authorize(ctx, user, verb, req.URL.Path)
		if err != nil {
			log.Error(err, "Reviewing a metrics client's access failed", "user", user.Username)
			http.Error(w, "Authorization for user "+user.Username+" failed", http.StatusInternalServerError)
			return
		}
		if !allowed {
			log.V(4).Info("Metrics access denied", "user", user.Username, "path", req.URL.Path, "reason", reason)
			http.Error(w, "Authorization denied for user "+user.Username, http.StatusForbidden)
			return
		}
		handler.ServeHTTP(w, req)
	}), nil
}

// bearerToken returns the request's bearer token.
func bearerToken(req *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(req.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// authenticate returns the user the token belongs to, nil when the API server refuses it. Tokens are cached by
// their hash only.
func (g *Guard) authenticate(ctx context.Context, token string) (*authnv1.UserInfo, error) {
	key := sha256.Sum256([]byte(token))
	now := g.clock.Now()
	g.mu.Lock()
	c, ok := g.users[key]
	g.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.user, nil
	}
	review, err := g.tokens.Create(ctx, &authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("creating a TokenReview: %w", err)
	}
	c = cachedUser{expires: now.Add(DenyTTL)}
	if review.Status.Authenticated {
		u := review.Status.User
		c = cachedUser{user: &u, expires: now.Add(TokenTTL)}
	}
	g.mu.Lock()
	if len(g.users) >= maxEntries {
		clear(g.users)
	}
	g.users[key] = c
	g.mu.Unlock()
	return c.user, nil
}

// authorize asks whether the user may use verb on the non-resource path.
func (g *Guard) authorize(ctx context.Context, user *authnv1.UserInfo, verb, path string) (bool, string, error) {
	key := accessKey(user, verb, path)
	now := g.clock.Now()
	g.mu.Lock()
	c, ok := g.allowed[key]
	g.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.allowed, c.reason, nil
	}
	extra := make(map[string]authzv1.ExtraValue, len(user.Extra))
	for k, v := range user.Extra {
		extra[k] = authzv1.ExtraValue(v)
	}
	review, err := g.access.Create(ctx, &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
		User: user.Username, UID: user.UID, Groups: user.Groups, Extra: extra,
		NonResourceAttributes: &authzv1.NonResourceAttributes{Path: path, Verb: verb},
	}}, metav1.CreateOptions{})
	if err != nil {
		return false, "", fmt.Errorf("creating a SubjectAccessReview: %w", err)
	}
	c = cachedDecision{allowed: review.Status.Allowed && !review.Status.Denied, reason: review.Status.Reason, expires: now.Add(DenyTTL)}
	if c.allowed {
		c.expires = now.Add(AllowTTL)
	}
	g.mu.Lock()
	if len(g.allowed) >= maxEntries {
		clear(g.allowed)
	}
	g.allowed[key] = c
	g.mu.Unlock()
	return c.allowed, c.reason, nil
}

// accessKey identifies one question: who (name, UID, groups, extra), which verb, which path.
func accessKey(user *authnv1.UserInfo, verb, path string) string {
	extra := make([]string, 0, len(user.Extra))
	for k, v := range user.Extra {
		extra = append(extra, fmt.Sprintf("%q=%q", k, []string(v)))
	}
	slices.Sort(extra)
	return fmt.Sprintf("%q %q %q %s %q %q", user.Username, user.UID, user.Groups, strings.Join(extra, ","), verb, path)
}
