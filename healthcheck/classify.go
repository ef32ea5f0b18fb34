package healthcheck

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"

	"github.com/lbtrust/lb/config"
	"github.com/valyala/fasthttp"
)

// classifyStatus turns an HTTP answer into a probe outcome. A 503 whose body
// says the backend is shutting down wins over ExpectedStatus (even a set
// that lists 503): the backend asked to leave, and the pool drains it at once.
func classifyStatus(code int, body []byte, expected config.StatusRanges) Outcome {
	switch {
	case code == http.StatusServiceUnavailable && isDrainingBody(body):
		return OutcomeBackendDraining
	case expected.Contains(code):
		return OutcomeCheckPassed
	}
	return OutcomeStatusMismatch
}

// isDrainingBody reports whether body is a JSON object whose "status" is
// "shutting_down" or "draining" (the seed's graceful-shutdown answer, also
// the LB's own /readyz body). Anything else, including a truncated or
// non-JSON body, is not a drain signal.
func isDrainingBody(body []byte) bool {
	var v struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(body, &v) != nil {
		return false
	}
	return v.Status == "shutting_down" || v.Status == "draining"
}

// classifyError turns a transport error into a probe outcome: timeout,
// connection_refused, connection_reset, or check_error for anything else.
// Order matters: a refused dial that also timed out is refused; a timeout is
// checked before EOF because a read that hit its deadline is not a close.
func classifyError(err error) Outcome {
	switch {
	case err == nil:
		return OutcomeCheckPassed
	case errors.Is(err, syscall.ECONNREFUSED):
		return OutcomeConnectionRefused
	case isTimeout(err):
		return OutcomeTimeout
	case isReset(err):
		return OutcomeConnectionReset
	}
	return OutcomeCheckError
}

// isTimeout reports whether err means a deadline passed: a net deadline
// (os.ErrDeadlineExceeded), a context deadline (dial, DNS), fasthttp's own
// ErrTimeout, or any net.Error that says Timeout.
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, fasthttp.ErrTimeout) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isReset reports whether err means the peer reset or closed the connection
// before the answer was complete.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, fasthttp.ErrConnectionClosed)
}

// classifyReadError classifies an error from reading an HTTP answer.
// transportErr is the last error the connection itself returned (nil if
// none). fasthttp's ErrBrokenChunk hides its cause (it does not unwrap), so
// when the connection hit EOF, a reset or its deadline inside a chunked body,
// the connection's own error decides.
func classifyReadError(err, transportErr error) Outcome {
	r := classifyError(err)
	var broken fasthttp.ErrBrokenChunk
	if r == OutcomeCheckError && transportErr != nil && errors.As(err, &broken) {
		if tr := classifyError(transportErr); tr != OutcomeCheckError {
			return tr
		}
	}
	return r
}
