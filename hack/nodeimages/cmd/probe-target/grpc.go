package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/probetuner/probe-tuner/test/harness/sim/behavior"
)

// The gRPC health service (grpc.health.v1.Health/Check) that the kubelet's grpc probe calls, served over
// HTTP/2 without TLS (prior knowledge, as the kubelet dials) by net/http itself: a unary call is a POST whose
// body and answer are one length-prefixed protobuf message each, and whose status travels in the trailers.
// The standard library suffices; the image stays free of google.golang.org/grpc.
const (
	healthCheckPath = "/grpc.health.v1.Health/Check"
	// grpc-status codes (google.golang.org/grpc/codes).
	grpcOK            = 0
	grpcNotFound      = 5
	grpcInvalid       = 3
	grpcUnimplemented = 12
	// HealthCheckResponse.ServingStatus values.
	servingStatusServing    = 1
	servingStatusNotServing = 2
)

// grpcServices maps the service name a probe asks about to the probe type whose behaviour answers it: the
// server cannot tell a liveness probe from a readiness probe otherwise. An empty name is the liveness probe's.
var grpcServices = map[string]behavior.ProbeType{"": behavior.Liveness, "liveness": behavior.Liveness,
	"readiness": behavior.Readiness, "startup": behavior.Startup}

// grpcServer serves the gRPC health service of a on addr: SERVING when a check of the service's probe type
// passes, NOT_SERVING when it fails, no answer while hung (the kubelet's deadline ends the call).
func grpcServer(a *app, addr string) *http.Server {
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	return &http.Server{Addr: addr, Handler: a.grpcHandler(), Protocols: &protocols, ReadHeaderTimeout: 5 * time.Second}
}

func (a *app) grpcHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status, Grpc-Message")
		if r.Method != http.MethodPost || r.URL.Path != healthCheckPath {
			grpcStatus(w, grpcUnimplemented, "only "+healthCheckPath+" is served")
			return
		}
		service, err := readHealthCheckRequest(r.Body)
		if err != nil {
			grpcStatus(w, grpcInvalid, err.Error())
			return
		}
		t, ok := grpcServices[service]
		if !ok {
			grpcStatus(w, grpcNotFound, fmt.Sprintf("unknown service %q (probe-target serves liveness, readiness and startup)", service))
			return
		}
		status := byte(servingStatusNotServing)
		if a.check(r.Context(), t) {
			status = servingStatusServing
		}
		if r.Context().Err() != nil {
			return // the caller gave up (a hang): no answer
		}
		// HealthCheckResponse{status: field 1, varint}, in one uncompressed length-prefixed message.
		msg := []byte{0x08, status}
		frame := make([]byte, 5, 5+len(msg))
		binary.BigEndian.PutUint32(frame[1:], uint32(len(msg)))
		_, _ = w.Write(append(frame, msg...))
		grpcStatus(w, grpcOK, "")
	})
}

func grpcStatus(w http.ResponseWriter, code int, message string) {
	w.Header().Set("Grpc-Status", fmt.Sprint(code))
	if message != "" {
		w.Header().Set("Grpc-Message", message)
	}
}

// readHealthCheckRequest reads one length-prefixed HealthCheckRequest and returns its service (field 1).
func readHealthCheckRequest(body io.Reader) (string, error) {
	var prefix [5]byte
	if _, err := io.ReadFull(body, prefix[:]); err != nil {
		return "", fmt.Errorf("reading the message prefix: %w", err)
	}
	if prefix[0] != 0 {
		return "", errors.New("compressed messages are not supported")
	}
	n := binary.BigEndian.Uint32(prefix[1:])
	if n > 4096 {
		return "", fmt.Errorf("a health check request of %d bytes", n)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(body, msg); err != nil {
		return "", fmt.Errorf("reading the message: %w", err)
	}
	var service string
	for len(msg) > 0 {
		tag, k := binary.Uvarint(msg)
		if k <= 0 {
			return "", errors.New("a malformed field tag")
		}
		msg = msg[k:]
		switch tag & 7 {
		case 0: // varint
			_, k = binary.Uvarint(msg)
			if k <= 0 {
				return "", errors.New("a malformed varint")
			}
			msg = msg[k:]
		case 2: // length-delimited
			l, k := binary.Uvarint(msg)
			if k <= 0 || uint64(len(msg)-k) < l {
				return "", errors.New("a malformed length-delimited field")
			}
			if tag>>3 == 1 {
				service = string(msg[k : k+int(l)])
			}
			msg = msg[k+int(l):]
		default:
			return "", fmt.Errorf("wire type %d is not expected in a HealthCheckRequest", tag&7)
		}
	}
	return service, nil
}
