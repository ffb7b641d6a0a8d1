package simkubelet

import (
	"context"
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/client-go/util/workqueue"
)

// runWorkers processes keys of queue with the given number of workers until ctx ends. A key whose process fails
// is retried with the queue's back-off while ctx lives; failMsg is the log line of a failure.
func runWorkers(ctx context.Context, queue workqueue.TypedRateLimitingInterface[string], workers int, log logr.Logger,
	failMsg string, process func(context.Context, string) error) {
	go func() {
		<-ctx.Done()
		queue.ShutDown()
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for processNext(ctx, queue, log, failMsg, process) {
			}
		})
	}
	wg.Wait()
}

func processNext(ctx context.Context, queue workqueue.TypedRateLimitingInterface[string], log logr.Logger, failMsg string,
	process func(context.Context, string) error) bool {
	key, quit := queue.Get()
	if quit {
		return false
	}
	defer queue.Done(key)
	if err := process(ctx, key); err != nil {
		if ctx.Err() == nil {
			log.Error(err, failMsg, "pod", key)
			queue.AddRateLimited(key)
		}
		return true
	}
	queue.Forget(key)
	return true
}
