package config

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/lbtrust/lb/internal/testcert"
)

// tlsFixture is a directory with test certificates next to the
// configuration file, so relative paths resolve against it.
type tlsFixture struct {
	dir string
	ca  *testcert.CA
}

func newTLSFixture(t *testing.T) *tlsFixture {
	t.Helper()
	f := &tlsFixture{dir: t.TempDir(), ca: testcert.MustCA("config test CA")}
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(f.dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for base, names := range map[string][]string{
		"api":   {"api.example.com"},
		"www":   {"www.example.com", "example.com"},
		"wild":  {"*.example.com"},
		"ipsan": {"127.0.0.1"},
	} {
		p := f.ca.MustIssue(names...)
		if _, _, err := p.WriteFiles(f.dir, base); err != nil {
			t.Fatal(err)
		}
	}
	write("ca.pem", f.ca.CertPEM)
	write("garbage.pem", []byte("not a certificate\n"))
	return f
}

// load writes src as lb.hcl in the fixture's directory and loads it.
func (f *tlsFixture) load(t *testing.T, src string) (*Config, hcl.Diagnostics) {
	t.Helper()
	path := filepath.Join(f.dir, "lb.hcl")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return Load(path)
}

const tlsPool = `
pool "web" {
  backend "127.0.0.1:9001" {}
}
`

func TestListenerTLSValues(t *testing.T) {
	f := newTLSFixture(t)
	cfg, diags := f.load(t, `
listener "https" {
  address = "127.0.0.1:8443"
  pool    = "web"
  tls {
    certificate "api" {
      cert_file = "api.crt"
      key_file  = "api.key"
    }
    certificate "www" {
      cert_file    = "www.crt"
      key_file     = "www.key"
      server_names = ["WWW.Example.com."]
      default      = true
    }
    certificate "wild" {
      cert_file = "`+filepath.Join(f.dir, "wild.crt")+`"
      key_file  = "wild.key"
    }
  }
}
listener "http" {
  address        = "127.0.0.1:8080"
  redirect_https = true
}
`+tlsPool)
	mustNoDiags(t, diags)
	l := cfg.Listener("https")
	if l.TLS == nil || l.TLS.MinVersion != tls.VersionTLS12 {
		t.Fatalf("tls = %+v, want min version 1.2", l.TLS)
	}
	got := map[string][]string{}
	for _, c := range l.TLS.Certificates {
		got[c.Name] = c.ServerNames
		if c.KeyPair == nil || c.KeyPair.Leaf == nil {
			t.Errorf("certificate %s: key pair not loaded", c.Name)
		}
	}
	want := map[string][]string{"api": {"api.example.com"}, "www": {"www.example.com"}, "wild": {"*.example.com"}}
	for name, names := range want {
		if !slices.Equal(got[name], names) {
			t.Errorf("certificate %s serves %v, want %v", name, got[name], names)
		}
	}
	if d := l.TLS.Default(); d == nil || d.Name != "www" {
		t.Errorf("default certificate = %+v, want www", d)
	}
	r := cfg.Listener("http").Redirect
	if r == nil || r.Listener != "https" || r.Port != 0 {
		t.Errorf("redirect = %+v, want to listener https", r)
	}
	if cfg.Listener("http").Pool != "" {
		t.Errorf("redirecting listener got pool %q", cfg.Listener("http").Pool)
	}
}

func TestListenerTLSFirstIsDefaultAndMinVersion13(t *testing.T) {
	f := newTLSFixture(t)
	cfg, diags := f.load(t, `
listener "https" {
  address = "127.0.0.1:8443"
  pool    = "web"
  tls {
    min_version = "1.3"
    certificate "ip" {
      cert_file = "ipsan.crt"
      key_file  = "ipsan.key"
    }
    certificate "api" {
      cert_file = "api.crt"
      key_file  = "api.key"
    }
  }
}
`+tlsPool)
	mustNoDiags(t, diags)
	tl := cfg.Listeners[0].TLS
	if tl.MinVersion != tls.VersionTLS13 || tl.Default().Name != "ip" || !tl.Certificates[0].IsDefault || tl.Certificates[1].IsDefault {
		t.Errorf("tls = min %x, default %s", tl.MinVersion, tl.Default().Name)
	}
}

func TestBackendTLSValues(t *testing.T) {
	f := newTLSFixture(t)
	cfg, diags := f.load(t, `
listener "public" {
  address = "127.0.0.1:8080"
  pool    = "web"
}
pool "web" {
  tls {
    ca_file     = "ca.pem"
    server_name = "api.internal"
  }
  backend "127.0.0.1:9001" {}
}
pool "plain" {
  backend "127.0.0.1:9002" {}
}
`)
	mustNoDiags(t, diags)
	bt := cfg.Pool("web").TLS
	if bt == nil || bt.RootCAs == nil || bt.ServerName != "api.internal" || bt.InsecureSkipVerify {
		t.Fatalf("backend tls = %+v", bt)
	}
	if cfg.Pool("plain").TLS != nil {
		t.Errorf("plain pool got tls")
	}
	again, _ := f.load(t, `
listener "public" {
  address = "127.0.0.1:8080"
  pool    = "web"
}
pool "web" {
  tls {
    ca_file     = "ca.pem"
    server_name = "api.internal"
  }
  backend "127.0.0.1:9001" {}
}
`)
	if !bt.Equal(again.Pool("web").TLS) {
		t.Errorf("same tls block loaded twice is not Equal")
	}
	if bt.Equal(nil) || !(*BackendTLS)(nil).Equal(nil) {
		t.Errorf("Equal with nil is wrong")
	}
}

// TestTLSDiagnostics: every mistake in a tls block, redirect or backend
// tls is an error (or a warning) at the right line.
func TestTLSDiagnostics(t *testing.T) {
	listener := func(tlsBody string) string {
		return `listener "https" {
  address = "127.0.0.1:8443"
  pool    = "web"
  tls {
` + tlsBody + `
  }
}
` + tlsPool
	}
	cert := func(name, base string, extra string) string {
		return `    certificate "` + name + `" {
      cert_file = "` + base + `.crt"
      key_file  = "` + base + `.key"
` + extra + `    }`
	}
	tests := []struct {
		name    string
		src     string
		summary string
		line    int
		warning bool
	}{
		{"missing cert file", listener(`    certificate "x" {
      cert_file = "nope.crt"
      key_file  = "api.key"
    }`), "Cannot read cert_file", 6, false},
		{"missing key file", listener(`    certificate "x" {
      cert_file = "api.crt"
      key_file  = "nope.key"
    }`), "Cannot read key_file", 7, false},
		{"mismatched key", listener(`    certificate "x" {
      cert_file = "api.crt"
      key_file  = "www.key"
    }`), "Invalid key pair", 7, false},
		{"not a certificate", listener(`    certificate "x" {
      cert_file = "garbage.pem"
      key_file  = "api.key"
    }`), "Invalid certificate", 6, false},
		{"directory as cert", listener(`    certificate "x" {
      cert_file = "."
      key_file  = "api.key"
    }`), "Cannot read cert_file", 6, false},
		{"no cert_file", listener(`    certificate "x" {
      key_file  = "api.key"
    }`), "Missing required argument", 5, false},
		{"no certificate", listener(``), "No certificate", 4, false},
		{"old version", listener(`    min_version = "1.1"
` + cert("a", "api", "")), "TLS version too old", 5, false},
		{"unknown version", listener(`    min_version = "TLS13"
` + cert("a", "api", "")), "Unknown TLS version", 5, false},
		{"two defaults", listener(cert("a", "api", "      default = true\n") + "\n" + cert("b", "www", "      default = true\n")), "Two default certificates", 13, false},
		{"name served twice", listener(cert("a", "api", "") + "\n" + cert("b", "www", "      server_names = [\"api.example.com\"]\n")), "Server name served twice", 12, false},
		{"duplicate certificate name", listener(cert("a", "api", "") + "\n" + cert("a", "www", "")), "Duplicate certificate name", 9, false},
		{"bad server name", listener(cert("a", "api", "      server_names = [\"api.example.com:443\"]\n")), "Invalid server name", 8, false},
		{"never served", listener(cert("a", "api", "") + "\n" + cert("b", "ipsan", "")), "Certificate never served", 9, false},
		{"name not covered", listener(cert("a", "api", "      server_names = [\"other.example.com\"]\n")), "Certificate does not cover server name", 8, true},
		{"redirect without tls listener", `listener "http" {
  address        = "127.0.0.1:8080"
  redirect_https = true
}
` + tlsPool, "No TLS listener to redirect to", 3, false},
		{"redirect on tls listener", `listener "https" {
  address        = "127.0.0.1:8443"
  pool           = "web"
  redirect_https = true
  tls {
` + cert("a", "api", "") + `
  }
}
` + tlsPool, "Redirect on a TLS listener", 4, false},
		{"ambiguous redirect", `listener "a" {
  address = "127.0.0.1:8443"
  pool    = "web"
  tls {
` + cert("a", "api", "") + `
  }
}
listener "b" {
  address = "127.0.0.1:9443"
  pool    = "web"
  tls {
` + cert("a", "api", "") + `
  }
}
listener "http" {
  address        = "127.0.0.1:8080"
  redirect_https = true
}
` + tlsPool, "Ambiguous redirect", 23, false},
		{"redirect port out of range", `listener "http" {
  address             = "127.0.0.1:8080"
  redirect_https      = true
  redirect_https_port = 70000
}
` + tlsPool, "Value out of range", 4, false},
		{"redirect port without redirect", `listener "http" {
  address             = "127.0.0.1:8080"
  pool                = "web"
  redirect_https_port = 8443
}
` + tlsPool, "Attribute needs redirect_https", 4, false},
		{"route on redirecting listener", `listener "http" {
  address             = "127.0.0.1:8080"
  redirect_https      = true
  redirect_https_port = 8443
  route {
    path_prefix = "/api/"
    pool        = "web"
  }
}
` + tlsPool, "Route on a redirecting listener", 5, false},
		{"backend ca missing", `listener "p" {
  address = "127.0.0.1:8080"
  pool    = "web"
}
pool "web" {
  tls {
    ca_file = "nope.pem"
  }
  backend "127.0.0.1:9001" {}
}
`, "Cannot read ca_file", 7, false},
		{"backend ca garbage", `listener "p" {
  address = "127.0.0.1:8080"
  pool    = "web"
}
pool "web" {
  tls {
    ca_file = "garbage.pem"
  }
  backend "127.0.0.1:9001" {}
}
`, "Invalid CA file", 7, false},
		{"backend skip verify with ca", `listener "p" {
  address = "127.0.0.1:8080"
  pool    = "web"
}
pool "web" {
  tls {
    ca_file              = "ca.pem"
    insecure_skip_verify = true
  }
  backend "127.0.0.1:9001" {}
}
`, "Conflicting TLS verification", 8, false},
		{"backend skip verify warns", `listener "p" {
  address = "127.0.0.1:8080"
  pool    = "web"
}
pool "web" {
  tls {
    insecure_skip_verify = true
  }
  backend "127.0.0.1:9001" {}
}
`, "Backend certificates not verified", 7, true},
		{"backend bad server name", `listener "p" {
  address = "127.0.0.1:8080"
  pool    = "web"
}
pool "web" {
  tls {
    server_name = "https://api"
  }
  backend "127.0.0.1:9001" {}
}
`, "Invalid server_name", 7, false},
	}
	f := newTLSFixture(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := f.load(t, tc.src)
			var found *hcl.Diagnostic
			for _, d := range diags {
				if d.Summary == tc.summary {
					found = d
				}
			}
			if found == nil {
				t.Fatalf("no %q diagnostic; got %v", tc.summary, diags)
			}
			if found.Subject == nil || found.Subject.Start.Line != tc.line || !strings.HasSuffix(found.Subject.Filename, "lb.hcl") {
				t.Errorf("%q at %v, want lb.hcl line %d", tc.summary, found.Subject, tc.line)
			}
			if (found.Severity == hcl.DiagWarning) != tc.warning {
				t.Errorf("%q severity %v, want warning=%v", tc.summary, found.Severity, tc.warning)
			}
			if found.Detail == "" {
				t.Errorf("%q has no detail", tc.summary)
			}
		})
	}
}

func TestNormalizeServerName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"Example.COM", "example.com", true},
		{"example.com.", "example.com", true},
		{"*.example.com", "*.example.com", true},
		{"a_b.example.com", "a_b.example.com", true},
		{"*", "", false},
		{"a.*.example.com", "", false},
		{"example.com:443", "", false},
		{"exa mple.com", "", false},
		{"a..b", "", false},
		{"", "", false},
	} {
		got, err := normalizeServerName(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("normalizeServerName(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
