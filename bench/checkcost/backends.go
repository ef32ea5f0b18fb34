package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lbtrust/lb/internal/freeport"
)

// idleTimeout closes a kept-alive connection that sends nothing for this
// long: longer than any check interval worth measuring.
const idleTimeout = 2 * time.Minute

// backends is a fleet of HTTP backends in this process, one loopback
// listener each, as cheap as a backend can be: one goroutine per listener
// blocked in Accept and one per open connection, both parked in Go's
// epoll-based poller while idle. Each answers GET /readyz with 200 "ok"
// (anything else 404), keeps the connection open or closes it as the
// request asks (HTTP/1.1 and 1.0 rules), and records the arrival of every
// request in the current probeLog. Safe for concurrent use.
type backends struct {
	addrs []string
	lns   []net.Listener
	log   atomic.Pointer[probeLog]
	wg    sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// startBackends opens n listeners on 127.0.0.1 (freeport.Listen: below
// the ephemeral range, which the targets' probe connections need) and
// serves them.
func startBackends(n int) (*backends, error) {
	lns, err := freeport.Listen(n)
	if err != nil {
		return nil, err
	}
	b := &backends{lns: lns, conns: map[net.Conn]struct{}{}}
	b.log.Store(newProbeLog(n))
	for _, ln := range lns {
		b.addrs = append(b.addrs, ln.Addr().String())
	}
	for i, ln := range b.lns {
		b.wg.Go(func() { b.accept(i, ln) })
	}
	return b, nil
}

// reset starts a new probe log and returns it; probes arriving from now
// on go to it.
func (b *backends) reset() *probeLog {
	l := newProbeLog(len(b.addrs))
	b.log.Store(l)
	return l
}

// stop closes every listener and connection and waits for their
// goroutines.
func (b *backends) stop() {
	for _, ln := range b.lns {
		ln.Close()
	}
	b.mu.Lock()
	b.closed = true
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *backends) accept(i int, ln net.Listener) {
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
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			c.Close()
			return
		}
		b.conns[c] = struct{}{}
		b.mu.Unlock()
		b.wg.Go(func() { b.serve(i, c) })
	}
}

// serve answers the requests of one connection until it closes, the
// request asks for close, or it sits idle for idleTimeout.
func (b *backends) serve(i int, c net.Conn) {
	defer func() {
		b.mu.Lock()
		delete(b.conns, c)
		b.mu.Unlock()
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
		b.log.Load().add(i, at, req.isProbe())
		_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(answer(req)); err != nil || !req.keepAlive {
			return
		}
	}
}
