package main

import (
	"bufio"
	"strings"
	"testing"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name    string
		head    string
		want    request
		wantErr bool
	}{
		{"lb probe", "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1:1\r\nUser-Agent: lb-healthcheck\r\nConnection: close\r\n\r\n",
			request{method: "GET", path: "/readyz"}, false},
		{"haproxy httpchk", "GET /readyz HTTP/1.0\r\n\r\n",
			request{method: "GET", path: "/readyz", http10: true}, false},
		{"1.1 kept alive by default", "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n",
			request{method: "GET", path: "/readyz", keepAlive: true}, false},
		{"1.0 keep-alive asked", "GET /readyz HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n",
			request{method: "GET", path: "/readyz", http10: true, keepAlive: true}, false},
		{"close among tokens", "GET /readyz HTTP/1.1\r\nConnection: TE, close\r\n\r\n",
			request{method: "GET", path: "/readyz"}, false},
		{"query dropped", "HEAD /readyz?full=1 HTTP/1.1\r\n\r\n",
			request{method: "HEAD", path: "/readyz", keepAlive: true}, false},
		{"body length", "POST /x HTTP/1.1\r\nContent-Length: 12\r\n\r\n",
			request{method: "POST", path: "/x", keepAlive: true, bodyLen: 12}, false},
		{"bare LF", "GET /readyz HTTP/1.1\nConnection: close\n\n",
			request{method: "GET", path: "/readyz"}, false},
		{"bad length", "POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", request{}, true},
		{"not HTTP", "GET /readyz\r\n\r\n", request{}, true},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\n", request{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRequest([]byte(tt.head))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReadHead(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string // heads, in order
		wantErr bool     // after them
	}{
		{"one", "GET / HTTP/1.1\r\n\r\n", []string{"GET / HTTP/1.1\r\n\r\n"}, true},
		{"pipelined, leading blank lines skipped", "\r\nGET /a HTTP/1.1\r\nA: b\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
			[]string{"GET /a HTTP/1.1\r\nA: b\r\n\r\n", "GET /b HTTP/1.1\r\n\r\n"}, true},
		{"too long", "GET / HTTP/1.1\r\n" + strings.Repeat("X: "+strings.Repeat("y", 1000)+"\r\n", 9) + "\r\n", nil, true},
		{"cut short", "GET / HTTP/1.1\r\nHost", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tt.in), 4096)
			var buf []byte
			for i, want := range tt.want {
				got, err := readHead(br, buf)
				if err != nil || string(got) != want {
					t.Fatalf("head %d = %q, %v; want %q", i, got, err, want)
				}
				buf = got
			}
			if _, err := readHead(br, buf); (err != nil) != tt.wantErr {
				t.Errorf("after the heads: err %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestAnswer(t *testing.T) {
	tests := []struct {
		name string
		req  request
		want string
	}{
		{"probe, close", request{method: "GET", path: "/readyz"},
			"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"},
		{"probe, 1.1 keep-alive", request{method: "GET", path: "/readyz", keepAlive: true},
			"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"},
		{"probe, 1.0 keep-alive", request{method: "GET", path: "/readyz", http10: true, keepAlive: true},
			"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"},
		{"HEAD", request{method: "HEAD", path: "/readyz", keepAlive: true},
			"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n"},
		{"other path", request{method: "GET", path: "/", keepAlive: true},
			"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot found"},
	}
	for _, tt := range tests {
		if got := string(answer(tt.req)); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}
