package server

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/internal/testcert"
	"github.com/lbtrust/lb/pool"
)

// protoBackend is a plain HTTP backend on 127.0.0.1 that answers every
// request 200 with the X-Forwarded-Proto it got in X-Seen-Proto, and
// whether it was reached over TLS in X-Seen-TLS. With pair set it serves
// TLS with that certificate.
func protoBackend(t *testing.T, pair *testcert.Pair) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if pair != nil {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{pair.TLS}, NextProtos: []string{"http/1.1"}})
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen-Proto", r.Header.Get("X-Forwarded-Proto"))
		w.Header().Set("X-Seen-TLS", fmt.Sprint(r.TLS != nil))
		io.WriteString(w, "ok")
	}), ErrorLog: log.New(io.Discard, "", 0)}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return ln.Addr().String()
}

// tlsFiles writes pairs (base name -> pair) into a fresh directory.
func tlsFiles(t *testing.T, pairs map[string]*testcert.Pair) string {
	t.Helper()
	dir := t.TempDir()
	for base, p := range pairs {
		if _, _, err := p.WriteFiles(dir, base); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// tlsListenerConfig is an LB config with a TLS listener "https" serving
// api (api.example.com), www (www.example.com, the default) and wild
// (*.wild.test) from dir, a redirecting plain listener "http", and pool
// web with backend.
func tlsListenerConfig(dir, backend string) string {
	return fmt.Sprintf(`
listener "https" {
  address = "127.0.0.1:0"
  pool    = "web"
  tls {
    certificate "api" {
      cert_file = %q
      key_file  = %q
    }
    certificate "www" {
      cert_file = %q
      key_file  = %q
      default   = true
    }
    certificate "wild" {
      cert_file = %q
      key_file  = %q
    }
  }
}
listener "http" {
  address        = "127.0.0.1:0"
  redirect_https = true
}
pool "web" {
  health_check {
    interval = "100ms"
    timeout  = "80ms"
  }
  backend %q {}
}
`, filepath.Join(dir, "api.crt"), filepath.Join(dir, "api.key"),
		filepath.Join(dir, "www.crt"), filepath.Join(dir, "www.key"),
		filepath.Join(dir, "wild.crt"), filepath.Join(dir, "wild.key"), backend)
}

// handshake dials addr with cfg and returns the leaf certificate the
// server sent and the negotiated ALPN protocol.
func handshake(addr string, cfg *tls.Config) (*x509.Certificate, string, error) {
	d := &net.Dialer{Timeout: 10 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return nil, "", err
	}
	defer conn.Close()
	st := conn.ConnectionState()
	return st.PeerCertificates[0], st.NegotiatedProtocol, nil
}

// TestTLSListenerPicksCertificateBySNI: SNI picks the matching
// certificate, a wildcard covers one label, no SNI or an unknown name
// gets the default, ALPN settles on http/1.1, TLS 1.1 is refused, and a
// proxied request reaches the backend with X-Forwarded-Proto: https.
func TestTLSListenerPicksCertificateBySNI(t *testing.T) {
	ca := testcert.MustCA("listener CA")
	dir := tlsFiles(t, map[string]*testcert.Pair{
		"api":  ca.MustIssue("api.example.com"),
		"www":  ca.MustIssue("www.example.com"),
		"wild": ca.MustIssue("*.wild.test"),
	})
	backend := protoBackend(t, nil)
	lb, _, _ := runFromFile(t, tlsListenerConfig(dir, backend))
	addr := lb.ListenerAddr("https").String()
	waitFor(t, "backend healthy", healthy(lb, "web", backend))

	for _, tc := range []struct {
		sni, want string
	}{
		{"api.example.com", "api.example.com"},
		{"API.Example.COM", "api.example.com"},
		{"www.example.com", "www.example.com"},
		{"a.wild.test", "*.wild.test"},
		{"a.b.wild.test", "www.example.com"}, // a wildcard covers one label only
		{"unknown.test", "www.example.com"},
		{"", "www.example.com"}, // no SNI: dialing an IP sends none
	} {
		cfg := &tls.Config{ServerName: tc.sni, RootCAs: ca.Pool(), NextProtos: []string{"h2", "http/1.1"}}
		if tc.sni == "" || tc.want != strings.ToLower(tc.sni) && !strings.HasPrefix(tc.want, "*.") {
			cfg.InsecureSkipVerify = true // the default does not cover the name asked for
		}
		leaf, proto, err := handshake(addr, cfg)
		if err != nil {
			t.Errorf("SNI %q: %v", tc.sni, err)
			continue
		}
		if leaf.DNSNames[0] != tc.want {
			t.Errorf("SNI %q: got certificate for %v, want %s", tc.sni, leaf.DNSNames, tc.want)
		}
		if proto != "http/1.1" {
			t.Errorf("SNI %q: ALPN %q, want http/1.1", tc.sni, proto)
		}
	}

	_, _, err := handshake(addr, &tls.Config{ServerName: "api.example.com", RootCAs: ca.Pool(),
		MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
	if err == nil || !strings.Contains(err.Error(), "protocol version") {
		t.Errorf("TLS 1.1 handshake: %v, want a protocol version alert", err)
	}

	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{ServerName: "api.example.com", RootCAs: ca.Pool()},
	}}
	defer c.CloseIdleConnections()
	resp, err := c.Get("https://" + addr + "/x")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Seen-Proto") != "https" || resp.Proto != "HTTP/1.1" {
		t.Errorf("proxied over TLS: %d %s, backend saw X-Forwarded-Proto %q; want 200 HTTP/1.1 https",
			resp.StatusCode, resp.Proto, resp.Header.Get("X-Seen-Proto"))
	}
}

// TestRedirectHTTPS: the plain listener answers 308 to the same host and
// target on the TLS listener's bound port.
func TestRedirectHTTPS(t *testing.T) {
	ca := testcert.MustCA("redirect CA")
	dir := tlsFiles(t, map[string]*testcert.Pair{
		"api": ca.MustIssue("api.example.com"), "www": ca.MustIssue("www.example.com"), "wild": ca.MustIssue("*.wild.test"),
	})
	lb, _, _ := runFromFile(t, tlsListenerConfig(dir, protoBackend(t, nil)))
	tlsPort := lb.ListenerAddr("https").(*net.TCPAddr).Port
	plain := lb.ListenerAddr("http").String()
	for _, tc := range []struct{ host, target, code, location string }{
		{"example.com:8080", "/a/b?q=1", "308", fmt.Sprintf("https://example.com:%d/a/b?q=1", tlsPort)},
		{"Example.com", "/", "308", fmt.Sprintf("https://Example.com:%d/", tlsPort)},
		{"[::1]:80", "/x", "308", fmt.Sprintf("https://[::1]:%d/x", tlsPort)},
		{"evil.com/x", "/", "400", ""},
		{"a@b", "/", "400", ""},
	} {
		conn, err := net.DialTimeout("tcp", plain, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", tc.target, tc.host)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		conn.Close()
		if err != nil {
			t.Errorf("Host %q: %v", tc.host, err)
			continue
		}
		resp.Body.Close()
		if fmt.Sprint(resp.StatusCode) != tc.code || resp.Header.Get("Location") != tc.location {
			t.Errorf("Host %q %s: %d Location %q; want %s %q", tc.host, tc.target, resp.StatusCode, resp.Header.Get("Location"), tc.code, tc.location)
		}
	}
}

// keepAliveConn is one TLS connection sending requests one after another.
type keepAliveConn struct {
	conn *tls.Conn
	br   *bufio.Reader
}

func (k *keepAliveConn) get(t *testing.T) int {
	t.Helper()
	k.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(k.conn, "GET / HTTP/1.1\r\nHost: api.example.com\r\n\r\n"); err != nil {
		t.Fatalf("write on the kept-alive connection: %v", err)
	}
	resp, err := http.ReadResponse(k.br, nil)
	if err != nil {
		t.Fatalf("read on the kept-alive connection: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestTLSReloadSwapsCertificate: a reload with a renewed certificate
// serves it to new connections while an open keep-alive connection keeps
// working; a reload with a broken certificate file changes nothing.
func TestTLSReloadSwapsCertificate(t *testing.T) {
	ca := testcert.MustCA("reload CA")
	first := ca.MustIssue("api.example.com")
	dir := tlsFiles(t, map[string]*testcert.Pair{
		"api": first, "www": ca.MustIssue("www.example.com"), "wild": ca.MustIssue("*.wild.test"),
	})
	backend := protoBackend(t, nil)
	lb, _, _ := runFromFile(t, tlsListenerConfig(dir, backend))
	addr := lb.ListenerAddr("https").String()
	waitFor(t, "backend healthy", healthy(lb, "web", backend))
	clientCfg := &tls.Config{ServerName: "api.example.com", RootCAs: ca.Pool()}

	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, clientCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	kept := &keepAliveConn{conn: conn, br: bufio.NewReader(conn)}
	if code := kept.get(t); code != 200 {
		t.Fatalf("first request: %d", code)
	}
	serialOf := func() string {
		t.Helper()
		leaf, _, err := handshake(addr, clientCfg)
		if err != nil {
			t.Fatal(err)
		}
		return leaf.SerialNumber.String()
	}
	if got := serialOf(); got != first.TLS.Leaf.SerialNumber.String() {
		t.Fatalf("serial %s before reload, want %s", got, first.TLS.Leaf.SerialNumber)
	}

	renewed := ca.MustIssue("api.example.com")
	if _, _, err := renewed.WriteFiles(dir, "api"); err != nil {
		t.Fatal(err)
	}
	if err := lb.ReloadFile(); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if got := serialOf(); got != renewed.TLS.Leaf.SerialNumber.String() {
		t.Errorf("serial %s after reload, want the renewed %s", got, renewed.TLS.Leaf.SerialNumber)
	}
	if code := kept.get(t); code != 200 {
		t.Errorf("kept-alive connection after reload: %d", code)
	}
	if st := lb.LastReload(); !st.OK || !strings.Contains(strings.Join(st.Changes, ";"), "listener https: tls reloaded") {
		t.Errorf("last reload %+v, want a tls change", st)
	}

	if err := os.WriteFile(filepath.Join(dir, "api.crt"), []byte("-----BEGIN CERTIFICATE-----\nbroken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = lb.ReloadFile()
	if err == nil || !strings.Contains(err.Error(), "api.crt") {
		t.Errorf("reload with a broken certificate: %v, want a diagnostic naming api.crt", err)
	}
	if got := serialOf(); got != renewed.TLS.Leaf.SerialNumber.String() {
		t.Errorf("serial %s after a broken reload, want still %s", got, renewed.TLS.Leaf.SerialNumber)
	}
	if code := kept.get(t); code != 200 {
		t.Errorf("kept-alive connection after a broken reload: %d", code)
	}
}

// backendTLSConfig is an LB config whose pool web speaks TLS to backend.
func backendTLSConfig(caFile, serverName, backend, check string) string {
	sn := ""
	if serverName != "" {
		sn = fmt.Sprintf("server_name = %q", serverName)
	}
	return fmt.Sprintf(`
listener "public" {
  address = "127.0.0.1:0"
  pool    = "web"
}
pool "web" {
  tls {
    ca_file = %q
    %s
  }
  health_check {
    type                = %q
    interval            = "100ms"
    timeout             = "80ms"
    unhealthy_threshold = 1
  }
  backend %q {}
}
`, caFile, sn, check, backend)
}

// TestBackendTLS: with the backends' CA, traffic and HTTP checks verify
// and pass; with a server name the certificate does not carry, the check
// fails with tls_error naming the cause, and a request gets 502 or 503
// rather than reaching a backend that could not be verified.
func TestBackendTLS(t *testing.T) {
	ca := testcert.MustCA("backend CA")
	pair := ca.MustIssue("backend.test", "127.0.0.1")
	backend := protoBackend(t, pair)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, sn := range []string{"", "backend.test"} {
		lb, c, base := runLB(t, backendTLSConfig(caFile, sn, backend, "http"))
		waitFor(t, "TLS backend healthy (server_name "+sn+")", healthy(lb, "web", backend))
		resp, err := c.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Seen-TLS") != "true" || resp.Header.Get("X-Seen-Proto") != "http" {
			t.Errorf("server_name %q: %d, backend saw TLS %s and proto %q; want 200 over TLS, proto http",
				sn, resp.StatusCode, resp.Header.Get("X-Seen-TLS"), resp.Header.Get("X-Seen-Proto"))
		}
	}

	lb, c, base := runLB(t, backendTLSConfig(caFile, "wrong.test", backend, "http"))
	var st pool.BackendStatus
	waitFor(t, "backend unhealthy with tls_error", func() bool {
		st, _ = stateOf(lb, "web", backend)
		return st.State == pool.StateUnhealthy
	})
	if st.Reason != pool.ReasonTLSError || !strings.Contains(st.Detail, "x509: certificate is valid for backend.test, not wrong.test") {
		t.Errorf("unhealthy because %s %q; want tls_error naming the x509 cause", st.Reason, st.Detail)
	}
	if code, _ := fetch(c, base+"/"); code != 502 && code != 503 {
		t.Errorf("request to an unverifiable backend: %d, want 502 or 503", code)
	}
}
