package healthcheck

import (
	"errors"
	"testing"
)

// TestResultDetail: a result's detail is its status for a status mismatch
// or a drain, the error for any other failure (and for a gRPC mismatch,
// whose error names the status and the service), "" for a pass.
func TestResultDetail(t *testing.T) {
	refused := errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	unknown := errors.New(`grpc health: SERVICE_UNKNOWN for service "x"`)
	tests := []struct {
		name string
		r    Result
		want string
	}{
		{"pass", Result{Outcome: OutcomeCheckPassed, Code: 200, Status: "200"}, ""},
		{"http status mismatch", Result{Outcome: OutcomeStatusMismatch, Code: 500, Status: "500"}, "500"},
		{"http draining", Result{Outcome: OutcomeBackendDraining, Code: 503, Status: "503"}, "503"},
		{"grpc draining", Result{Outcome: OutcomeBackendDraining, Code: 2, Status: "NOT_SERVING"}, "NOT_SERVING"},
		{"grpc status mismatch", Result{Outcome: OutcomeStatusMismatch, Code: 3, Status: "SERVICE_UNKNOWN", Err: unknown}, unknown.Error()},
		{"transport failure", Result{Outcome: OutcomeConnectionRefused, Err: refused}, refused.Error()},
		{"failure without error", Result{Outcome: OutcomeTimeout}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Detail(); got != tt.want {
				t.Fatalf("Detail() = %q, want %q", got, tt.want)
			}
		})
	}
}
