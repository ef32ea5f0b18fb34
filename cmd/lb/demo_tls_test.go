package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// exampleTLSConfig writes a copy of examples/lb-tls.hcl that uses the
// free addresses in ports (keyed by the example's addresses) and absolute
// paths to examples/tls/, and returns its path.
func exampleTLSConfig(t *testing.T, ports map[string]string) string {
	t.Helper()
	raw, err := os.ReadFile("../../examples/lb-tls.hcl")
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(raw)
	for from, to := range ports {
		if n := strings.Count(cfg, `"`+from+`"`); n != 1 {
			t.Fatalf("examples/lb-tls.hcl has %q %d times, want once", from, n)
		}
		cfg = strings.ReplaceAll(cfg, `"`+from+`"`, `"`+to+`"`)
	}
	dir, err := filepath.Abs("../../examples/tls")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cfg, `"tls/`) {
		t.Fatal(`examples/lb-tls.hcl names no "tls/..." file`)
	}
	cfg = strings.ReplaceAll(cfg, `"tls/`, `"`+dir+`/`)
	path := filepath.Join(t.TempDir(), "lb-tls.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDemoTLSExample runs `lb demo` on the TLS example (free ports, the
// example's DEMO certificates): the api pool's demo backend speaks TLS
// with a certificate the pool's tls block accepts, so it becomes healthy
// and api.localhost is served over HTTPS end to end; the plain listener
// redirects to https; a plain backend fed TLS bytes prints nothing.
func TestDemoTLSExample(t *testing.T) {
	a := freePorts(t, 6)
	adminAddr, httpsAddr, httpAddr, web1, web2, api := a[0], a[1], a[2], a[3], a[4], a[5]
	path := exampleTLSConfig(t, map[string]string{
		"127.0.0.1:9901": adminAddr, "127.0.0.1:8443": httpsAddr, "127.0.0.1:8080": httpAddr,
		"127.0.0.1:9001": web1, "127.0.0.1:9002": web2, "127.0.0.1:9443": api,
	})
	demo := start(t, "demo", "-config", path)

	c := client(t, 10*time.Second)
	eventually(t, 40*time.Second, "backends healthy, the TLS one included", func() bool {
		st, ok := getStatus(c, adminAddr)
		if !ok {
			return false
		}
		for _, addr := range []string{web1, web2, api} {
			if b, ok := st.backend(addr); !ok || b.State != "healthy" {
				return false
			}
		}
		return true
	})

	caPEM, err := os.ReadFile("../../examples/tls/demo-ca.crt")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("demo-ca.crt: no certificate")
	}
	_, httpsPort, _ := net.SplitHostPort(httpsAddr)
	// curl --cacert examples/tls/demo-ca.crt --resolve api.localhost:PORT:127.0.0.1 https://api.localhost:PORT/
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, httpsAddr)
		},
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var code int
	var body, backend string
	eventually(t, 30*time.Second, "HTTPS with SNI api.localhost answered 200 by the api pool", func() bool {
		code, body, backend, err = httpGet(hc, "https://api.localhost:"+httpsPort+"/hello")
		return err == nil && code == 200 && backend == "api/"+api
	})
	if !strings.Contains(body, `"path":"/hello"`) {
		t.Errorf("api answer %q", body)
	}

	plain := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := plain.Get("http://" + httpAddr + "/x?y=1")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if want := "https://127.0.0.1:" + httpsPort + "/x?y=1"; resp.StatusCode != 308 || resp.Header.Get("Location") != want {
		t.Errorf("plain listener: %d Location %q, want 308 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}

	// A TLS ClientHello sent to a plain demo backend: fasthttp's error
	// goes to the debug log (off by default), not raw to stderr.
	conn, err := net.DialTimeout("tcp", web1, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	conn.Read(buf) // the backend's 400, or the close
	conn.Close()

	demo.signal(t, syscall.SIGINT)
	if code := demo.wait(t, 40*time.Second); code != 0 {
		t.Fatalf("demo exit code %d", code)
	}
	out := demo.out.String()
	for _, bad := range []string{"error when serving connection", "serves plain HTTP"} {
		if strings.Contains(out, bad) {
			t.Errorf("demo output contains %q:\n%s", bad, out)
		}
	}
}
