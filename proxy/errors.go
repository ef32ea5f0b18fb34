package proxy

import (
	"encoding/json"
	"errors"
	"io"
	"net"

	"github.com/lbtrust/lb/pool"
	"github.com/valyala/fasthttp"
)

// failure classifies why an attempt (or the whole request) did not get a
// backend answer. It decides the status the client sees, the outcome the
// backend is charged with, and whether a retry may go elsewhere.
type failure uint8

const (
	// failNoBackend: no eligible backend (left) in the pool. 503.
	failNoBackend failure = iota
	// failSaturated: fasthttp.ErrNoFreeConns, the LB's own connection
	// limit to that backend is reached. 503, never held against it.
	failSaturated
	// failConnect: dialing the backend failed (refused, unreachable), or
	// the pooled connection picked for it had been closed by
	// BackendClient.CloseAll (errConnCut): the request never reached it.
	// 502.
	failConnect
	// failConnectTimeout: dialing took longer than the connect timeout;
	// the request never reached it. 504.
	failConnectTimeout
	// failClosed: the connection was closed or reset before any response
	// byte (typically a kept-alive connection the backend had closed, or
	// one BackendClient.CloseAll cut), or the request could not be
	// written. The backend may have seen the request. 502.
	failClosed
	// failTimeout: no complete answer within the per-try or response
	// timeout. 504.
	failTimeout
	// failTransport: any other error talking to the backend (a malformed
	// or truncated answer, a reset mid-response, a connection CloseAll
	// cut mid-response). 502.
	failTransport
	// failUnwired: the backend carries no *BackendClient (a wiring
	// bug). 502, never held against the backend.
	failUnwired
	// failClientBody: the client failed while its body was being
	// streamed to the backend (it stalled, went away, sent too much or a
	// malformed chunk): never held against the backend, never retried;
	// the listener answers it as it answers a body it cannot read
	// (Handler.refuseBody).
	failClientBody
	// failOutOfFiles: dialing the backend failed because the LB itself
	// is out of file descriptors (EMFILE, ENFILE): the request never
	// left. 503 "too many connections", as the listener answers a client
	// it cannot accept; never held against the backend, never retried
	// (another backend needs a descriptor too).
	failOutOfFiles
	// failRescued: the try was abandoned while it waited for an answer
	// because its backend was held out for not answering, and the
	// request moved to another backend (rescue.go). It never reaches
	// the client and is never held against the backend (it already is
	// out).
	failRescued

	numFailures
)

// String names the failure for debug logs.
func (f failure) String() string {
	switch f {
	case failNoBackend:
		return "no_backend"
	case failSaturated:
		return "saturated"
	case failConnect:
		return "connect_failed"
	case failConnectTimeout:
		return "connect_timeout"
	case failClosed:
		return "connection_closed"
	case failTimeout:
		return "timeout"
	case failTransport:
		return "transport_error"
	case failUnwired:
		return "unwired_backend"
	case failOutOfFiles:
		return "out_of_files"
	case failClientBody:
		return "client_body"
	case failRescued:
		return "rescued"
	}
	return "unknown"
}

// status is the HTTP status the client gets for f.
func (f failure) status() int {
	switch f {
	case failNoBackend, failSaturated, failOutOfFiles:
		return fasthttp.StatusServiceUnavailable
	case failConnectTimeout, failTimeout:
		return fasthttp.StatusGatewayTimeout
	}
	return fasthttp.StatusBadGateway
}

// message is the "error" field of the JSON body for f.
func (f failure) message() string {
	switch f {
	case failNoBackend:
		return "no healthy backend"
	case failSaturated:
		return "backend connection limit reached"
	case failConnect:
		return "backend connection failed"
	case failConnectTimeout:
		return "backend connect timeout"
	case failTimeout:
		return "backend timeout"
	case failOutOfFiles:
		return "too many connections"
	}
	return "backend error"
}

// outcome is what the backend is charged with for f.
func (f failure) outcome() pool.RequestOutcome {
	switch f {
	case failSaturated, failUnwired, failNoBackend, failOutOfFiles, failClientBody, failRescued:
		return pool.RequestLocal
	case failTimeout:
		return pool.RequestTimeout
	}
	return pool.RequestTransportError
}

// classify maps an error from HostClient.Do* to a failure. It allocates
// nothing for the errors fasthttp returns unwrapped.
func classify(err error) failure {
	switch e := err.(type) {
	case *clientBodyError:
		return failClientBody
	case *dialError:
		if outOfFiles(e.err) {
			return failOutOfFiles
		}
		if e.timeout {
			return failConnectTimeout
		}
		return failConnect
	case *fasthttp.ErrDialWithUpstream:
		// A HostClient not built by NewBackendClient (default dialer).
		if errors.Is(e, fasthttp.ErrDialTimeout) {
			return failConnectTimeout
		}
		return failConnect
	case *net.OpError:
		if e.Timeout() {
			return failTimeout
		}
		if e.Op == "write" {
			return failClosed
		}
		return failTransport
	}
	switch {
	case err == errRescued:
		return failRescued
	case err == fasthttp.ErrNoFreeConns:
		return failSaturated
	case err == errConnCut:
		return failConnect
	case err == fasthttp.ErrConnectionClosed, err == io.EOF:
		return failClosed
	case err == fasthttp.ErrTimeout, err == fasthttp.ErrDialTimeout:
		return failTimeout
	}
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		return failTimeout
	}
	return failTransport
}

// errorBodies holds the JSON body of every failure for one pool, rendered
// once when routes are compiled so the request path only copies them.
type errorBodies [numFailures]string

// renderErrorBodies renders {"error":"...","pool":"<name>"} for every
// failure, with the pool name JSON-escaped.
func renderErrorBodies(poolName string) *errorBodies {
	var b errorBodies
	for f := failure(0); f < numFailures; f++ {
		b[f] = mustJSON(struct {
			Error string `json:"error"`
			Pool  string `json:"pool"`
		}{f.message(), poolName})
	}
	return &b
}

// noRouteBody answers a request that matched no route on a listener
// without a default pool (404).
const noRouteBody = `{"error":"no route"}`

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only fixed struct shapes of strings are marshalled
	}
	return string(b)
}

// writeError replaces whatever the response holds with status and a JSON
// body. It does not allocate once the response's buffers are warm.
func writeError(resp *fasthttp.Response, status int, body string) {
	resp.Reset()
	resp.SetStatusCode(status)
	resp.Header.SetContentType("application/json")
	resp.SetBodyString(body)
}
