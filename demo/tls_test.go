package demo

import (
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/internal/testcert"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// TestStartWithTLSServesHTTPS: a backend started with a TLS config
// answers HTTPS verified against its CA, and a client speaking plain HTTP
// to it is logged at debug level through Options.Log, not on stderr.
func TestStartWithTLSServesHTTPS(t *testing.T) {
	ca := testcert.MustCA("demo test CA")
	pair := ca.MustIssue("backend.test")
	core, logs := observer.New(zap.DebugLevel)
	b, err := StartWith("127.0.0.1:0", Options{
		Name: "tls1",
		TLS:  &tls.Config{Certificates: []tls.Certificate{pair.TLS}},
		Log:  zap.New(core),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), ServerName: "backend.test"}}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	resp, err := c.Get("https://" + b.Addr() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get(HeaderBackend) != "tls1" || resp.TLS == nil {
		t.Fatalf("GET /readyz over TLS: %d %q tls=%v", resp.StatusCode, resp.Header.Get(HeaderBackend), resp.TLS != nil)
	}

	conn, err := net.DialTimeout("tcp", b.Addr(), 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	buf := make([]byte, 512)
	for {
		if _, err := conn.Read(buf); err != nil {
			break // the server closes the connection after the failed handshake
		}
	}
	conn.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		entries := logs.FilterMessage("demo backend: fasthttp").All()
		if len(entries) > 0 {
			e := entries[0]
			if e.Level != zap.DebugLevel || e.ContextMap()["backend"] != "tls1" ||
				!strings.Contains(e.ContextMap()["message"].(string), "error when serving connection") {
				t.Fatalf("logged %v %v", e.Level, e.ContextMap())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the failed handshake was not logged through Options.Log")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
