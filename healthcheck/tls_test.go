package healthcheck

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbtrust/lb/internal/testcert"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// tlsHTTPBackend serves 200 on every path over TLS with pair, on
// 127.0.0.1:0, until the test ends.
func tlsHTTPBackend(t *testing.T, pair *testcert.Pair) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tln := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{pair.TLS}})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), ErrorLog: log.New(io.Discard, "", 0)}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(tln) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return ln.Addr().String()
}

// tlsGRPCBackend serves the gRPC health service (whole server SERVING)
// over TLS with pair, on 127.0.0.1:0, until the test ends.
func tlsGRPCBackend(t *testing.T, pair *testcert.Pair) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{pair.TLS}})))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() { srv.Stop(); <-done })
	return ln.Addr().String()
}

// TestTLSProbes: HTTP and gRPC probes verify the backend's certificate
// against the configured CA and name; a name the certificate does not
// carry, an unknown CA, or a backend that does not speak TLS is
// tls_error with the cause in Err, and skipping verification passes.
func TestTLSProbes(t *testing.T) {
	ca := testcert.MustCA("probe CA")
	other := testcert.MustCA("other CA")
	pair := ca.MustIssue("backend.test", "127.0.0.1")
	httpAddr := tlsHTTPBackend(t, pair)
	grpcAddr := tlsGRPCBackend(t, pair)
	plainAddr := statusServer(t, 200, "ok").Listener.Addr().String()

	tests := []struct {
		name    string
		typ     string
		address string
		cfg     *tls.Config
		want    Outcome
		detail  string
	}{
		{"http verified by IP", TypeHTTP, httpAddr, &tls.Config{RootCAs: ca.Pool()}, OutcomeCheckPassed, ""},
		{"http verified by name", TypeHTTP, httpAddr, &tls.Config{RootCAs: ca.Pool(), ServerName: "backend.test"}, OutcomeCheckPassed, ""},
		{"http wrong name", TypeHTTP, httpAddr, &tls.Config{RootCAs: ca.Pool(), ServerName: "wrong.test"}, OutcomeTLSError,
			"x509: certificate is valid for backend.test, not wrong.test"},
		{"http unknown CA", TypeHTTP, httpAddr, &tls.Config{RootCAs: other.Pool()}, OutcomeTLSError, "x509: certificate signed by unknown authority"},
		{"http skip verify", TypeHTTP, httpAddr, &tls.Config{InsecureSkipVerify: true}, OutcomeCheckPassed, ""},
		{"http plain backend", TypeHTTP, plainAddr, &tls.Config{RootCAs: ca.Pool()}, OutcomeTLSError, "tls handshake"},
		{"grpc verified", TypeGRPC, grpcAddr, &tls.Config{RootCAs: ca.Pool()}, OutcomeCheckPassed, ""},
		{"grpc wrong name", TypeGRPC, grpcAddr, &tls.Config{RootCAs: ca.Pool(), ServerName: "wrong.test"}, OutcomeTLSError,
			"x509: certificate is valid for backend.test, not wrong.test"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := Spec{Type: tc.typ, Interval: 10 * time.Second, Timeout: 5 * time.Second, TLS: tc.cfg}
			res := newChecker(t, spec, tc.address, nil).Probe(context.Background())
			if res.Outcome != tc.want {
				t.Fatalf("outcome %s (%v), want %s", res.Outcome, res.Err, tc.want)
			}
			if tc.detail != "" && (res.Err == nil || !strings.Contains(res.Err.Error(), tc.detail)) {
				t.Errorf("err %v, want it to contain %q", res.Err, tc.detail)
			}
		})
	}
}

func TestClassifyHandshake(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want Outcome
	}{
		{&handshakeError{err: context.DeadlineExceeded}, OutcomeTimeout},
		{&handshakeError{err: opErr("read", syscall.ECONNRESET)}, OutcomeConnectionReset},
		{&handshakeError{err: io.EOF}, OutcomeTLSError},
		{&handshakeError{err: tls.AlertError(70)}, OutcomeTLSError},
	} {
		if got := classifyHandshake(tc.err).Outcome; got != tc.want {
			t.Errorf("classifyHandshake(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}
