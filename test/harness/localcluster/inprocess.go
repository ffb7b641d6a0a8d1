package localcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"

	"github.com/probetuner/probe-tuner/test/harness/simkubelet"
)

// StartSimKubelet runs the simulated kubelet in the test process (Cluster.SimKubelet) with cfg (Options.Nodes
// wins over cfg.Nodes when set), logging to logs/simkubelet.log, and waits until it runs pods. Stop it with
// StopSimKubelet (Stop does).
func (c *Cluster) StartSimKubelet(cfg simkubelet.Config) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.simCancel != nil {
		return errors.New("the in-process simkubelet is already running")
	}
	if c.opts.Nodes > 0 {
		cfg.Nodes = c.opts.Nodes
	}
	if cfg.Logger.GetSink() == nil {
		f, err := os.OpenFile(c.LogPath("simkubelet"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		cfg.Logger = fileLogger(f)
		c.simLog = f
	}
	d, err := simkubelet.New(c.Config, cfg)
	if err != nil {
		c.closeSimLog()
		return fmt.Errorf("simkubelet: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	select {
	case <-d.Ready():
	case err := <-done:
		cancel()
		c.closeSimLog()
		return fmt.Errorf("simkubelet stopped at once: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		<-done
		c.closeSimLog()
		return errors.New("simkubelet did not get ready within 60s")
	}
	c.SimKubelet, c.simCancel, c.simDone = d, cancel, done
	c.Nodes = d.Nodes()
	return nil
}

// StopSimKubelet stops the in-process simulated kubelet, if it runs, and waits for it.
func (c *Cluster) StopSimKubelet() error {
	c.mu.Lock()
	cancel, done, logFile := c.simCancel, c.simDone, c.simLog
	c.simCancel, c.simDone, c.SimKubelet, c.simLog = nil, nil, nil, nil
	c.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	defer func() {
		if logFile != nil {
			_ = logFile.Close()
		}
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		return errors.New("the in-process simkubelet did not stop within 30s")
	}
}

// fileLogger is a structured logger writing one line per entry to f (verbosity 2).
func fileLogger(f *os.File) logr.Logger {
	return funcr.New(func(prefix, args string) {
		fmt.Fprintf(f, "%s %s %s\n", time.Now().Format("15:04:05.000"), prefix, args)
	}, funcr.Options{Verbosity: 2})
}

// closeSimLog closes the in-process simkubelet's log file (with c.mu held).
func (c *Cluster) closeSimLog() {
	if c.simLog != nil {
		_ = c.simLog.Close()
		c.simLog = nil
	}
}
