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

	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
)

func opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Err: os.NewSyscallError(op, err)}
}

func TestClassifyError(t *testing.T) {
	tests := []struct {
		err  error
		want pool.Reason
	}{
		{opErr("connect", syscall.ECONNREFUSED), pool.ReasonConnectionRefused},
		{opErr("read", syscall.ECONNRESET), pool.ReasonConnectionReset},
		{opErr("write", syscall.EPIPE), pool.ReasonConnectionReset},
		{opErr("read", syscall.ECONNABORTED), pool.ReasonConnectionReset},
		{io.EOF, pool.ReasonConnectionReset},
		{fmt.Errorf("error when reading response headers: %w", io.EOF), pool.ReasonConnectionReset},
		{io.ErrUnexpectedEOF, pool.ReasonConnectionReset},
		{fasthttp.ErrConnectionClosed, pool.ReasonConnectionReset},
		{&net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, pool.ReasonTimeout},
		{&net.OpError{Op: "dial", Err: context.DeadlineExceeded}, pool.ReasonTimeout},
		{fasthttp.ErrTimeout, pool.ReasonTimeout},
		{&net.DNSError{Err: "timeout", IsTimeout: true}, pool.ReasonTimeout},
		{&net.DNSError{Err: "no such host", IsNotFound: true}, pool.ReasonCheckError},
		{errors.New("something else"), pool.ReasonCheckError},
		{fasthttp.ErrBrokenChunk{}, pool.ReasonCheckError},
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
		want           pool.Reason
	}{
		{broken, io.EOF, pool.ReasonConnectionReset},
		{broken, opErr("read", syscall.ECONNRESET), pool.ReasonConnectionReset},
		{broken, &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, pool.ReasonTimeout},
		{broken, nil, pool.ReasonCheckError},
		{errors.New("malformed"), io.EOF, pool.ReasonCheckError},
		{io.EOF, nil, pool.ReasonConnectionReset},
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
