package healthcheck

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
)

// TestHTTPHeaderBlockSizes: a probe starts reading into a small buffer and
// goes on in a full-size one when the header block (or a chunked answer's
// trailers) does not fit, so every block up to readBufferSize passes as
// before and a larger one is still a check_error; a kept connection is
// reused after either buffer.
func TestHTTPHeaderBlockSizes(t *testing.T) {
	pad := func(n int) string { return "X-Pad: " + strings.Repeat("p", n) + "\r\n" }
	tests := []struct {
		name string
		raw  string
		want Outcome
	}{
		{"small", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", OutcomeCheckPassed},
		{"header just over the small buffer", "HTTP/1.1 200 OK\r\n" + pad(smallReadSize) + "Content-Length: 2\r\n\r\nok", OutcomeCheckPassed},
		{"header of 6 KiB", "HTTP/1.1 200 OK\r\n" + pad(6<<10) + "Content-Length: 2\r\n\r\nok", OutcomeCheckPassed},
		{"large header and a draining body", "HTTP/1.1 503 Unavailable\r\n" + pad(3<<10) + "Content-Length: 21\r\n\r\n{\"status\":\"draining\"}", OutcomeBackendDraining},
		{"interim answer then a large header", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n" + pad(2<<10) + "Content-Length: 2\r\n\r\nok", OutcomeCheckPassed},
		{"chunked with large trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Pad\r\n\r\n2\r\nok\r\n0\r\n" + pad(3<<10) + "\r\n", OutcomeCheckPassed},
		{"header over the limit", "HTTP/1.1 200 OK\r\n" + pad(readBufferSize) + "Content-Length: 2\r\n\r\nok", OutcomeCheckError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRawServer(t, func(conn net.Conn) {
				br := readRequest(conn)
				for {
					if _, err := conn.Write([]byte(tt.raw)); err != nil {
						return
					}
					if !skipRequest(br) {
						return
					}
				}
			})
			if res := probe(t, quick, srv.addr); res.Outcome != tt.want {
				t.Fatalf("fresh probe: got %s code=%d err=%v, want %s", res.Outcome, res.Code, res.Err, tt.want)
			}
			c := newChecker(t, quick, srv.addr, nil)
			s := c.prober.(opener).open(&probeBuffers{})
			defer s.close()
			for i := range 3 {
				if res := c.probe(context.Background(), s); res.Outcome != tt.want {
					t.Fatalf("kept probe %d: got %s code=%d err=%v, want %s", i, res.Outcome, res.Code, res.Err, tt.want)
				}
			}
			// One connection for the fresh probe; the session's kept one
			// carried all three when the answer passed, else each failure
			// dropped it.
			want := int64(2)
			if tt.want == OutcomeCheckError {
				want = 4
			}
			if got := srv.accepted.Load(); got != want {
				t.Fatalf("%d connections accepted, want %d", got, want)
			}
		})
	}
}

// skipRequest consumes the next request's header block from br; false when
// the connection ended first.
func skipRequest(br *bufio.Reader) bool {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return false
		}
		if line == "\r\n" {
			return true
		}
	}
}
