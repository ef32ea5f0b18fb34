package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http/httputil"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

// desyncCase is one graded request of the aws/http-desync-guardian corpus
// in testdata/desync-guardian (format in its README.md).
type desyncCase struct {
	File    string `yaml:"-"`
	Index   int    `yaml:"-"`
	Name    string `yaml:"name"`
	URI     string `yaml:"uri"`
	Method  string `yaml:"method"`
	Version string `yaml:"version"`
	Headers []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"headers"`
	Expected struct {
		Tier   string `yaml:"tier"`
		Reason string `yaml:"reason"`
	} `yaml:"expected"`
}

// id names a case uniquely: its file and position (two cases of
// acceptable.yaml share a name).
func (c *desyncCase) id() string {
	return fmt.Sprintf("%s#%d", strings.TrimSuffix(c.File, ".yaml"), c.Index)
}

// loadDesyncCorpus reads every case of testdata/desync-guardian/*.yaml.
func loadDesyncCorpus(t testing.TB) []*desyncCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "desync-guardian", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files: %v", err)
	}
	var all []*desyncCase
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cases []*desyncCase
		if err := yaml.Unmarshal(data, &cases); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for i, c := range cases {
			c.File, c.Index = filepath.Base(f), i
			all = append(all, c)
		}
	}
	return all
}

// raw renders the case as the bytes a client sends: the request line
// (no version for an empty one), "Host: lb.test" first unless the case
// has a Host field, every field as "name:value" (the corpus values carry
// their own leading whitespace), the empty line, then a body that matches
// the case's framing: a chunked one when it has an exact
// Transfer-Encoding field ending in "chunked" (that framing wins), else
// as many bytes as an exact, numeric Content-Length says. body is the
// payload a backend should receive.
func (c *desyncCase) raw() (req []byte, body string) {
	var b bytes.Buffer
	b.WriteString(c.Method + " " + c.URI)
	if c.Version != "" {
		b.WriteString(" " + c.Version)
	}
	b.WriteString("\r\n")
	hasHost := false
	for _, h := range c.Headers {
		hasHost = hasHost || strings.EqualFold(h.Name, "Host")
	}
	if !hasHost {
		b.WriteString("Host: lb.test\r\n")
	}
	cl, chunked := -1, false
	for _, h := range c.Headers {
		b.WriteString(h.Name + ":" + h.Value + "\r\n")
		v := strings.ToLower(strings.Trim(h.Value, " \t"))
		switch {
		case strings.EqualFold(h.Name, "Transfer-Encoding"):
			chunked = strings.HasSuffix(v, "chunked")
		case strings.EqualFold(h.Name, "Content-Length"):
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				cl = n
			}
		}
	}
	b.WriteString("\r\n")
	switch {
	case chunked:
		body = "hello, chunked world"
		fmt.Fprintf(&b, "%x\r\n%s\r\n0\r\n\r\n", len(body), body)
	case cl > 0:
		body = strings.Repeat("0123456789abcdef", cl/16+1)[:cl]
		b.WriteString(body)
	}
	return b.Bytes(), body
}

// seenRequest is what a captureBackend received.
type seenRequest struct {
	method, uri, proto string
	header             textproto.MIMEHeader
	body               string
	// framing names what is wrong with the framing the backend got:
	// both Content-Length and Transfer-Encoding, or several of either.
	framing string
}

// captureBackend is a raw HTTP/1.1 server that frames requests itself
// (a real server would hide a Content-Length next to a
// Transfer-Encoding), records every request it reads and answers 200
// "ok" (no body to HEAD).
type captureBackend struct {
	addr string
	mu   sync.Mutex
	seen []seenRequest
}

func startCaptureBackend(t testing.TB) *captureBackend {
	t.Helper()
	be := &captureBackend{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	be.addr = ln.Addr().String()
	serveConns(t, ln, be.serve)
	return be
}

func (be *captureBackend) requests() []seenRequest {
	be.mu.Lock()
	defer be.mu.Unlock()
	return append([]seenRequest(nil), be.seen...)
}

func (be *captureBackend) serve(c net.Conn) {
	tr := textproto.NewReader(bufio.NewReader(c))
	for {
		line, err := tr.ReadLine()
		if err != nil {
			return
		}
		hdr, err := tr.ReadMIMEHeader()
		if err != nil {
			return
		}
		method, rest, _ := strings.Cut(line, " ")
		i := strings.LastIndexByte(rest, ' ')
		if i < 0 {
			return
		}
		r := seenRequest{method: method, uri: rest[:i], proto: rest[i+1:], header: hdr}
		cls, tes := hdr["Content-Length"], hdr["Transfer-Encoding"]
		switch {
		case len(cls) > 0 && len(tes) > 0:
			r.framing = "Content-Length with Transfer-Encoding"
		case len(cls) > 1:
			r.framing = "several Content-Length"
		case len(tes) > 1:
			r.framing = "several Transfer-Encoding"
		}
		var body []byte
		switch {
		case r.framing != "":
		case len(tes) == 1:
			if body, err = io.ReadAll(httputil.NewChunkedReader(tr.R)); err != nil {
				return
			}
			if _, err := tr.ReadMIMEHeader(); err != nil {
				return
			}
		case len(cls) == 1:
			n, err := strconv.Atoi(cls[0])
			if err != nil || n < 0 {
				r.framing = "bad Content-Length " + strconv.Quote(cls[0])
				break
			}
			body = make([]byte, n)
			if _, err := io.ReadFull(tr.R, body); err != nil {
				return
			}
		}
		r.body = string(body)
		be.mu.Lock()
		be.seen = append(be.seen, r)
		be.mu.Unlock()
		if r.framing != "" {
			return
		}
		answer := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
		if method == "HEAD" {
			answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
		}
		if _, err := c.Write([]byte(answer)); err != nil {
			return
		}
	}
}
