package main

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/internal/testcert"
)

// TestDemoTLSPicksAcceptedCertificate: the demo backend of a TLS pool
// gets the first listener certificate the pool's client accepts, judged
// by ca_file, server_name (else the backend's host) and
// insecure_skip_verify; none fitting is an error naming each refusal.
func TestDemoTLSPicksAcceptedCertificate(t *testing.T) {
	ca := testcert.MustCA("demo pick CA")
	other := testcert.MustCA("other CA")
	www := ca.MustIssue("www.test", "127.0.0.1")
	api := ca.MustIssue("api.test")
	stranger := other.MustIssue("api.test")
	cert := func(name string, p *testcert.Pair) *config.Certificate {
		return &config.Certificate{Name: name, KeyPair: &p.TLS}
	}
	listeners := []*config.Listener{
		{Name: "plain"},
		{Name: "a", TLS: &config.ListenerTLS{Certificates: []*config.Certificate{cert("stranger", stranger), cert("www", www)}}},
		{Name: "b", TLS: &config.ListenerTLS{Certificates: []*config.Certificate{cert("api", api)}}},
	}
	for _, tc := range []struct {
		name      string
		listeners []*config.Listener
		tls       *config.BackendTLS
		address   string
		want      string // certificate name; "" for plain HTTP
		wantErr   []string
	}{
		{name: "plain pool", listeners: listeners, address: "127.0.0.1:1"},
		{name: "server_name picks api", listeners: listeners, tls: &config.BackendTLS{RootCAs: ca.Pool(), ServerName: "api.test"}, address: "127.0.0.1:1", want: "api"},
		{name: "backend host is the name", listeners: listeners, tls: &config.BackendTLS{RootCAs: ca.Pool()}, address: "127.0.0.1:1", want: "www"},
		{name: "other CA", listeners: listeners, tls: &config.BackendTLS{RootCAs: other.Pool(), ServerName: "api.test"}, address: "127.0.0.1:1", want: "stranger"},
		{name: "insecure takes the first", listeners: listeners, tls: &config.BackendTLS{InsecureSkipVerify: true, ServerName: "nothing.test"}, address: "127.0.0.1:1", want: "stranger"},
		{name: "no name fits", listeners: listeners, tls: &config.BackendTLS{RootCAs: ca.Pool(), ServerName: "db.test"}, address: "127.0.0.1:1",
			wantErr: []string{`listener a certificate "stranger"`, `listener a certificate "www"`, `listener b certificate "api"`, "db.test"}},
		{name: "no listener certificate", listeners: listeners[:1], tls: &config.BackendTLS{InsecureSkipVerify: true}, address: "127.0.0.1:1",
			wantErr: []string{"no listener tls certificate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &config.Config{Listeners: tc.listeners}
			got, err := demoTLS(cfg, &config.Pool{Name: "p", TLS: tc.tls}, tc.address)
			if len(tc.wantErr) > 0 {
				if err == nil || got != nil {
					t.Fatalf("got %v, %v; want an error", got, err)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if got != nil {
					t.Fatalf("plain pool got a TLS config")
				}
				return
			}
			if got == nil || len(got.Certificates) != 1 {
				t.Fatalf("got %v, want certificate %s", got, tc.want)
			}
			want := map[string]*tls.Certificate{"www": &www.TLS, "api": &api.TLS, "stranger": &stranger.TLS}[tc.want]
			if got.Certificates[0].Leaf != want.Leaf {
				t.Errorf("picked %v, want %s", got.Certificates[0].Leaf.DNSNames, tc.want)
			}
		})
	}
}
