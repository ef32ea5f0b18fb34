package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/valyala/fasthttp"
)

func opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Err: os.NewSyscallError(op, err)}
}

func TestClassifyError(t *testing.T) {
	tests := []struct {
		err  error
		want Outcome
	}{
		{opErr("connect", syscall.ECONNREFUSED), OutcomeConnectionRefused},
		{opErr("read", syscall.ECONNRESET), OutcomeConnectionReset},
		{opErr("write", syscall.EPIPE), OutcomeConnectionReset},
		{opErr("read", syscall.ECONNABORTED), OutcomeConnectionReset},
		{io.EOF, OutcomeConnectionReset},
		{fmt.Errorf("error when reading response headers: %w", io.EOF), OutcomeConnectionReset},
		{io.ErrUnexpectedEOF, OutcomeConnectionReset},
		{fasthttp.ErrConnectionClosed, OutcomeConnectionReset},
		{&net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, OutcomeTimeout},
		{&net.OpError{Op: "dial", Err: context.DeadlineExceeded}, OutcomeTimeout},
		{fasthttp.ErrTimeout, OutcomeTimeout},
		{&net.DNSError{Err: "timeout", IsTimeout: true}, OutcomeTimeout},
		{&net.DNSError{Err: "no such host", IsNotFound: true}, OutcomeCheckError},
		{errors.New("something else"), OutcomeCheckError},
		{fasthttp.ErrBrokenChunk{}, OutcomeCheckError},
	}
	for _, tt := range tests {
		if got := classifyError(tt.err); got != tt.want {
			t.Errorf("classifyError(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

func TestClassifyReadError(t *testing.T) {
	broken := fasthttp.ErrBrokenChunk{}
	tests := []struct {
		err, transport error
		want           Outcome
	}{
		{broken, io.EOF, OutcomeConnectionReset},
		{broken, opErr("read", syscall.ECONNRESET), OutcomeConnectionReset},
		{broken, &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, OutcomeTimeout},
		{broken, nil, OutcomeCheckError},
		{errors.New("malformed"), io.EOF, OutcomeCheckError},
		{io.EOF, nil, OutcomeConnectionReset},
	}
	for _, tt := range tests {
		if got := classifyReadError(tt.err, tt.transport); got != tt.want {
			t.Errorf("classifyReadError(%v, %v) = %s, want %s", tt.err, tt.transport, got, tt.want)
		}
	}
}

func TestIsDrainingBody(t *testing.T) {
	tests := map[string]bool{
		`{"status":"shutting_down"}`:                        true,
		`{"status":"draining"}`:                             true,
		` {"version":"1","status":"draining","checks":{}} `: true,
		`{"status":"ok"}`:                                   false,
		`{"status":"Shutting_Down"}`:                        false,
		`{"state":"draining"}`:                              false,
		`{"status":"draining"`:                              false,
		`"draining"`:                                        false,
		`status: draining`:                                  false,
		``:                                                  false,
		`{"status":["draining"]}`:                           false,
		`{"checks":{"status":"draining"},"status":"degraded"}`: false,
	}
	for body, want := range tests {
		if got := isDrainingBody([]byte(body)); got != want {
			t.Errorf("isDrainingBody(%q) = %v, want %v", body, got, want)
		}
	}
}
