package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/lbtrust/lb/internal/testcert"
)

// TestSIGHUPSwapsCertificate: a real SIGHUP to the lb process makes new
// TLS connections get the renewed certificate, while a kept-alive
// connection opened before keeps being served.
func TestSIGHUPSwapsCertificate(t *testing.T) {
	a := freePorts(t, 3)
	adminAddr, tlsAddr, b1 := a[0], a[1], a[2]
	startBackend(t, b1, "b1")
	ca := testcert.MustCA("sighup CA")
	dir := t.TempDir()
	first := ca.MustIssue("api.example.com")
	certFile, keyFile, err := first.WriteFiles(dir, "api")
	if err != nil {
		t.Fatal(err)
	}
	lb, _ := startLB(t, fmt.Sprintf(`
admin { address = %q }
listener "https" {
  address = %q
  pool    = "web"
  tls {
    certificate "api" {
      cert_file = %q
      key_file  = %q
    }
  }
}
pool "web" {
  health_check {
    interval = "200ms"
    timeout  = "100ms"
  }
  backend %q {}
}
`, adminAddr, tlsAddr, certFile, keyFile, b1))
	waitHealthy(t, client(t, 5*time.Second), adminAddr, b1)

	cfg := &tls.Config{ServerName: "api.example.com", RootCAs: ca.Pool()}
	serial := func() string {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", tlsAddr, cfg)
		if err != nil {
			return "error: " + err.Error()
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	kept, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", tlsAddr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	br := bufio.NewReader(kept)
	get := func() (int, error) {
		kept.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(kept, "GET / HTTP/1.1\r\nHost: api.example.com\r\n\r\n"); err != nil {
			return 0, err
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := get(); code != 200 {
		t.Fatalf("before SIGHUP: %d %v", code, err)
	}
	if got := serial(); got != first.TLS.Leaf.SerialNumber.String() {
		t.Fatalf("serial before SIGHUP %s, want %s", got, first.TLS.Leaf.SerialNumber)
	}

	renewed := ca.MustIssue("api.example.com")
	if _, _, err := renewed.WriteFiles(dir, "api"); err != nil {
		t.Fatal(err)
	}
	lb.signal(t, syscall.SIGHUP)
	eventually(t, 10*time.Second, "new connections get the renewed certificate", func() bool {
		return serial() == renewed.TLS.Leaf.SerialNumber.String()
	})
	if code, err := get(); code != 200 {
		t.Errorf("kept-alive connection after SIGHUP: %d %v", code, err)
	}
}
