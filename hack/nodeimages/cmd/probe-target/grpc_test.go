package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// grpcCheck calls Health/Check for service over HTTP/2 without TLS, as the kubelet's grpc prober does, and
// returns the grpc-status and the serving status (0 when there is no message).
func grpcCheck(t *testing.T, addr, service string, timeout time.Duration) (grpcCode string, serving byte, err error) {
	t.Helper()
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	client := &http.Client{Transport: &http.Transport{Protocols: &protocols}, Timeout: timeout}
	msg := append([]byte{0x0a, byte(len(service))}, service...) // HealthCheckRequest{service: field 1}
	frame := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(msg)))
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://"+addr+healthCheckPath, bytes.NewReader(append(frame, msg...)))
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	resp, err := client.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("answered over HTTP/%d, want HTTP/2", resp.ProtoMajor)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", 0, err
	}
	if len(body) == 7 && body[5] == 0x08 {
		serving = body[6]
	}
	return resp.Trailer.Get("Grpc-Status"), serving, nil
}

func TestGRPCHealth(t *testing.T) {
	a, c := testApp(t, map[string]string{"sim.probetuner.io/readiness-failure-rate": "1", "sim.probetuner.io/hang-after": "1h"})
	srv := grpcServer(a, "127.0.0.1:0")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	addr := ln.Addr().String()

	for _, tt := range []struct {
		service, code string
		serving       byte
	}{
		{"", "0", servingStatusServing},
		{"liveness", "0", servingStatusServing},
		{"startup", "0", servingStatusServing},
		{"readiness", "0", servingStatusNotServing}, // readiness fails at rate 1
		{"payments", "5", 0},                        // an unknown service: NOT_FOUND
	} {
		code, serving, err := grpcCheck(t, addr, tt.service, time.Second)
		if err != nil || code != tt.code || serving != tt.serving {
			t.Errorf("service %q: grpc-status %q, serving %d, err %v; want %q, %d", tt.service, code, serving, err, tt.code, tt.serving)
		}
	}
	// Hung: the call gets no answer before the caller's deadline.
	c.advance(time.Hour)
	if _, _, err := grpcCheck(t, addr, "", 300*time.Millisecond); err == nil || !strings.Contains(err.Error(), "Timeout") && !strings.Contains(err.Error(), "deadline") {
		t.Errorf("a hung app answered the health check (err %v)", err)
	}
}
