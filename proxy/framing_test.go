package proxy

import (
	"bufio"
	"net"
	"strings"
	"testing"
)

// TestFramingScan feeds answer bytes to a framingScan, whole and one byte
// at a time, and checks whether it flags a framing conflict.
func TestFramingScan(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		conflict     bool
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false},
		{"both", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", true},
		{"both, other order and case", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-LENGTH: 2\r\n\r\n", true},
		{"space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 2\r\nTransfer-Encoding\t: chunked\r\n\r\n", true},
		{"long space before colon", "HTTP/1.1 200 OK\r\nContent-Length" + strings.Repeat(" ", 40) + ": 2\r\nTransfer-Encoding: chunked\r\n\r\n", true},
		{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 2\nTransfer-Encoding: chunked\n\n", true},
		{"inner space is another field", "HTTP/1.1 200 OK\r\nContent Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", false},
		{"folded line is no field", "HTTP/1.1 200 OK\r\nX-A: a\r\n Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", false},
		{"long name", "HTTP/1.1 200 OK\r\nX-Content-Length-Transfer-Encoding: 1\r\nTransfer-Encoding: chunked\r\n\r\n", false},
		{"in the value", "HTTP/1.1 200 OK\r\nX-A: Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", false},
		{"in the body", "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\nTransfer-Encoding: chunked\r\nxxxxxxxxxx", false},
		{"one in a 103, one in the 200", "HTTP/1.1 103 Early Hints\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false},
		{"both in the 200 after a 100", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", true},
		{"101 ends the header", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s framingScan
			s.start()
			if got := s.scan([]byte(tc.answer)) != nil; got != tc.conflict {
				t.Errorf("whole: conflict %v, want %v", got, tc.conflict)
			}
			s.start()
			got := false
			for i := 0; i < len(tc.answer) && !got; i++ {
				got = s.scan([]byte{tc.answer[i]}) != nil
			}
			if got != tc.conflict {
				t.Errorf("byte by byte: conflict %v, want %v", got, tc.conflict)
			}
		})
	}
}

// answeringBackend answers the i-th request it reads (counting across
// connections) with answers[i], the last one repeated, keeping the
// connection open.
func answeringBackend(t *testing.T, answers ...string) string {
	t.Helper()
	next := make(chan string, 64)
	for _, a := range answers {
		next <- a
	}
	last := answers[len(answers)-1]
	return rawBackend(t, func(c net.Conn, br *bufio.Reader) {
		for {
			if _, ok := readRequest(br); !ok {
				return
			}
			a := last
			select {
			case a = <-next:
			default:
			}
			if _, err := c.Write([]byte(a)); err != nil {
				return
			}
		}
	})
}

// TestResponseFraming502 checks that a backend answer the client could
// frame differently from the LB never reaches it: 502 instead, while
// well-framed answers, 1xx interim answers included, pass on the same
// backend connection before and after.
func TestResponseFraming502(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	for _, tc := range []struct {
		name, answer string
		status       int
		body         string
	}{
		{"Content-Length and Transfer-Encoding", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", 502, ""},
		{"Transfer-Encoding and Content-Length", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nok\r\n0\r\n\r\n", 502, ""},
		{"two different Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!", 502, ""},
		{"two equal Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", 502, ""},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", 200, "ok"},
		{"103 then 200", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" + ok, 200, "ok"},
		{"100 then 200", "HTTP/1.1 100 Continue\r\n\r\n" + ok, 200, "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := answeringBackend(t, ok, tc.answer, ok)
			up := &Upstream{Pool: newTestPool(t, "web", be)}
			l := startLB(t, NewHandler("public", Routes{Default: up}, nil), ServerOptions{})
			c := l.conn(t)
			get := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
			if r := c.raw(get, false); r.StatusCode() != 200 || string(r.Body()) != "ok" {
				t.Fatalf("first answer %d %q", r.StatusCode(), r.Body())
			}
			resp := c.raw(get, false)
			if tc.status == 502 {
				wantJSONError(t, resp, 502, "backend error", "web")
			} else if resp.StatusCode() != tc.status || string(resp.Body()) != tc.body {
				t.Errorf("answer %d %q, want %d %q", resp.StatusCode(), resp.Body(), tc.status, tc.body)
			}
			if r := c.raw(get, false); r.StatusCode() != 200 || string(r.Body()) != "ok" {
				t.Errorf("answer after it %d %q", r.StatusCode(), r.Body())
			}
			checkReleased(t, up.Pool)
		})
	}
}

// FuzzFramingScan: a framingScan reaches the same verdict on any answer
// whether it reads it whole (whole field lines take the fast path,
// fieldLine) or one byte at a time (every line read byte by byte), and
// in two pieces cut anywhere.
func FuzzFramingScan(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"), 20)
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length : 2\r\n\r\nok"), 7)
	f.Add([]byte("HTTP/1.1 200 OK\r\nX-A: a\r\n Content-Length: 2\r\n\rTransfer-Encoding\t: chunked\r\n\r\n"), 30)
	f.Fuzz(func(t *testing.T, answer []byte, cut int) {
		verdict := func(pieces ...[]byte) bool {
			var s framingScan
			s.start()
			for _, p := range pieces {
				if s.scan(p) != nil {
					return true
				}
			}
			return false
		}
		var bytewise [][]byte
		for i := range answer {
			bytewise = append(bytewise, answer[i:i+1])
		}
		want := verdict(bytewise...)
		if got := verdict(answer); got != want {
			t.Fatalf("whole: conflict %v, byte by byte %v", got, want)
		}
		if len(answer) > 0 {
			c := (cut%len(answer) + len(answer)) % len(answer)
			if got := verdict(answer[:c], answer[c:]); got != want {
				t.Fatalf("cut at %d: conflict %v, byte by byte %v", c, got, want)
			}
		}
	})
}
