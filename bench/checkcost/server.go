package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// idleTimeout closes a kept-alive connection that sends nothing for this
// long: longer than any check interval worth measuring.
const idleTimeout = 2 * time.Minute

// recordFunc is told of every request a backend reads: the backend's
// index, when the request head was complete, and whether it was a probe
// (GET or HEAD /readyz).
type recordFunc func(i int, at time.Time, probe bool)

// server serves HTTP backends on listeners, as cheap as a backend can
// be: one goroutine per listener blocked in Accept and one per open
// connection, both parked in Go's epoll-based poller while idle. Each
// backend answers GET /readyz with 200 "ok" (anything else 404), keeps
// the connection open or closes it as the request asks (HTTP/1.1 and 1.0
// rules), and records every request. Safe for concurrent use.
type server struct {
	lns    []net.Listener
	record recordFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// serve starts serving lns; backend i is lns[i].
func serve(lns []net.Listener, record recordFunc) *server {
	s := &server{lns: lns, record: record, conns: map[net.Conn]struct{}{}}
	for i, ln := range lns {
		s.wg.Go(func() { s.accept(i, ln) })
	}
	return s
}

// stop closes every listener and connection and waits for their
// goroutines.
func (s *server) stop() {
	for _, ln := range s.lns {
		ln.Close()
	}
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *server) accept(i int, ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors or the like: back off, keep serving.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Go(func() { s.conn(i, c) })
	}
}

// conn answers the requests of one connection until it closes, the
// request asks for close, or it sits idle for idleTimeout.
func (s *server) conn(i int, c net.Conn) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	br := bufio.NewReaderSize(c, 4096)
	var head []byte
	for {
		_ = c.SetReadDeadline(time.Now().Add(idleTimeout))
		var err error
		if head, err = readHead(br, head); err != nil {
			return
		}
		at := time.Now()
		req, err := parseRequest(head)
		if err != nil {
			_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			return
		}
		if req.bodyLen > 0 {
			if _, err := io.CopyN(io.Discard, br, req.bodyLen); err != nil {
				return
			}
		}
		s.record(i, at, req.isProbe())
		_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(answer(req)); err != nil || !req.keepAlive {
			return
		}
	}
}
