package config

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// discoveryHead opens a file whose pool "web" gets a test's body: the
// body's first line is line 6 of the file.
const discoveryHead = `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "web"
}
pool "web" {
`

// newDiscoveryFixture is a TLS fixture (certificates next to lb.hcl) with
// password files beside them: etcd.pass ("s3cret" and a newline),
// spaced.pass (" pa ss \r\n"), empty.pass (a line break only).
func newDiscoveryFixture(t *testing.T) *tlsFixture {
	t.Helper()
	f := newTLSFixture(t)
	for name, content := range map[string]string{
		"etcd.pass":   "s3cret\n",
		"spaced.pass": " pa ss \r\n",
		"empty.pass":  "\r\n",
	} {
		if err := os.WriteFile(filepath.Join(f.dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// loadPool loads a file whose pool "web" holds body.
func (f *tlsFixture) loadPool(t *testing.T, body string) (*Config, hcl.Diagnostics) {
	t.Helper()
	return f.load(t, discoveryHead+body+"\n}\n")
}

func TestDiscoveryDiagnostics(t *testing.T) {
	f := newDiscoveryFixture(t)
	tests := []struct {
		name      string
		body      string
		summary   string // substring of the summary
		detail    string // substring of the detail
		line, col int
	}{
		// The block and its label.
		{
			name: "unknown discovery type",
			body: `  discovery "consul" {
    name = "web"
  }`,
			summary: "Unknown discovery type", detail: `use one of "dns", "etcd"`, line: 6, col: 13,
		},
		{
			name: "discovery without a label",
			body: `  discovery { name = "web.internal" }
  backend "127.0.0.1:9001" {}`,
			summary: "Missing type for discovery", detail: `such as discovery "dns"`, line: 6, col: 13,
		},
		{
			name: "an etcd attribute in a dns block",
			body: `  discovery "dns" {
    name   = "_http._tcp.web.internal"
    prefix = "/lb/"
  }`,
			summary: "Unsupported argument", detail: "Remove it", line: 8, col: 5,
		},

		// dns: name and type.
		{
			name: "dns without name",
			body: `  discovery "dns" {
    port = 8080
  }`,
			summary: "Missing required argument", detail: "add name = ", line: 6, col: 3,
		},
		{
			name:    "dns with an empty name",
			body:    `  discovery "dns" { name = "" }`,
			summary: "Empty value", detail: "needs a value for name", line: 6, col: 28,
		},
		{
			name:    "dns name with a space",
			body:    `  discovery "dns" { name = "web internal" }`,
			summary: "Invalid DNS name", detail: `the character ' '`, line: 6, col: 28,
		},
		{
			name:    "dns name with a port",
			body:    `  discovery "dns" { name = "web.internal:8080" }`,
			summary: "Invalid DNS name", detail: "with no scheme or port", line: 6, col: 28,
		},
		{
			name: "dns name that is an IP address",
			body: `  discovery "dns" {
    name = "10.0.0.5"
    port = 8080
  }`,
			summary: "Invalid DNS name", detail: "use a backend block", line: 7, col: 12,
		},
		{
			name:    "dns name with an empty label",
			body:    `  discovery "dns" { name = "web..internal" }`,
			summary: "Invalid DNS name", detail: "empty or over-long label", line: 6, col: 28,
		},
		{
			name: "dns name too long",
			body: `  discovery "dns" {
    name = "` + strings.Repeat("a.", 127) + `a"
    port = 80
  }`,
			summary: "Invalid DNS name", detail: "more than the 253", line: 7, col: 12,
		},
		{
			name: "unknown record type",
			body: `  discovery "dns" {
    name = "web.internal"
    type = "mx"
    port = 8080
  }`,
			summary: "Unknown DNS record type", detail: `type = "mx" is not supported`, line: 8, col: 12,
		},
		{
			name: "record type aaaa",
			body: `  discovery "dns" {
    name = "web.internal"
    type = "aaaa"
    port = 8080
  }`,
			summary: "Unknown DNS record type", detail: "looks up both A and AAAA", line: 8, col: 12,
		},
		{
			name: "record type in upper case",
			body: `  discovery "dns" {
    name = "_http._tcp.web.internal"
    type = "SRV"
  }`,
			summary: "Unknown DNS record type", detail: `type = "srv"`, line: 8, col: 12,
		},

		// dns: port.
		{
			name: "port with an SRV name",
			body: `  discovery "dns" {
    name = "_http._tcp.web.internal"
    port = 8080
  }`,
			summary: "Attribute not used by this record type", detail: `type defaults to "srv" because name starts with "_"`, line: 8, col: 12,
		},
		{
			name: "port with type srv",
			body: `  discovery "dns" {
    name = "web.internal"
    type = "srv"
    port = 8080
  }`,
			summary: "Attribute not used by this record type", detail: `and type = "srv"`, line: 9, col: 12,
		},
		{
			name: "type a without port",
			body: `  discovery "dns" {
    name = "web.internal"
  }`,
			summary: "Missing required argument", detail: "add port = 8080", line: 6, col: 3,
		},
		{
			name: "explicit type a without port",
			body: `  discovery "dns" {
    name = "_web.internal"
    type = "a"
  }`,
			summary: "Missing required argument", detail: "carry no port", line: 6, col: 3,
		},
		{
			name: "port out of range",
			body: `  discovery "dns" {
    name = "web.internal"
    port = 70000
  }`,
			summary: "Value out of range", detail: "port must be in 1..65535; it is 70000", line: 8, col: 12,
		},
		{
			name: "port as a string",
			body: `  discovery "dns" {
    name = "web.internal"
    port = "http"
  }`,
			summary: "Unsuitable value type", line: 8, col: 13,
		},

		// dns: resolver.
		{
			name: "resolver without a port",
			body: `  discovery "dns" {
    name     = "_http._tcp.web.internal"
    resolver = "127.0.0.1"
  }`,
			summary: "Invalid resolver", detail: "missing port in address", line: 8, col: 16,
		},
		{
			name: "resolver by name",
			body: `  discovery "dns" {
    name     = "_http._tcp.web.internal"
    resolver = "ns1.internal:53"
  }`,
			summary: "Invalid resolver", detail: "not an IP address", line: 8, col: 16,
		},
		{
			name: "resolver on port 0",
			body: `  discovery "dns" {
    name     = "_http._tcp.web.internal"
    resolver = "127.0.0.1:0"
  }`,
			summary: "Invalid resolver", detail: "port 0", line: 8, col: 16,
		},
		{
			name: "resolver without a host",
			body: `  discovery "dns" {
    name     = "_http._tcp.web.internal"
    resolver = ":53"
  }`,
			summary: "Invalid resolver", detail: "has no host", line: 8, col: 16,
		},
		{
			name: "resolver as a URL",
			body: `  discovery "dns" {
    name     = "_http._tcp.web.internal"
    resolver = "udp://127.0.0.1:53"
  }`,
			summary: "Invalid resolver", detail: "IP:port", line: 8, col: 16,
		},
		{
			name: "empty resolver",
			body: `  discovery "dns" {
    name     = "_http._tcp.web.internal"
    resolver = ""
  }`,
			summary: "Empty value", detail: "resolver must not be empty", line: 8, col: 16,
		},

		// dns: refresh and timeout.
		{
			name: "refresh below the minimum",
			body: `  discovery "dns" {
    name    = "_http._tcp.web.internal"
    refresh = "500ms"
  }`,
			summary: "Value out of range", detail: `refresh must be from 1s to 5m0s; it is "500ms"`, line: 8, col: 15,
		},
		{
			name: "refresh above the maximum",
			body: `  discovery "dns" {
    name    = "_http._tcp.web.internal"
    refresh = "10m"
  }`,
			summary: "Value out of range", detail: "follow each answer's TTL", line: 8, col: 15,
		},
		{
			name: "refresh 0s",
			body: `  discovery "dns" {
    name    = "_http._tcp.web.internal"
    refresh = "0s"
  }`,
			summary: "Value out of range", detail: `it is "0s"`, line: 8, col: 15,
		},
		{
			name: "refresh without a unit",
			body: `  discovery "dns" {
    name    = "_http._tcp.web.internal"
    refresh = "5"
  }`,
			summary: "Invalid duration", detail: `refresh = "5" is not a duration`, line: 8, col: 15,
		},
		{
			name: "timeout zero",
			body: `  discovery "dns" {
    name    = "_http._tcp.web.internal"
    timeout = "0s"
  }`,
			summary: "Invalid duration", detail: "timeout must be longer than zero", line: 8, col: 15,
		},
		{
			name: "timeout not a duration",
			body: `  discovery "dns" {
    name    = "_http._tcp.web.internal"
    timeout = "soon"
  }`,
			summary: "Invalid duration", detail: `timeout = "soon"`, line: 8, col: 15,
		},

		// dns: two blocks for one name.
		{
			name: "two dns blocks for one SRV name",
			body: `  discovery "dns" {
    name = "_http._tcp.web.internal"
  }
  discovery "dns" {
    name     = "_HTTP._tcp.Web.Internal."
    resolver = "127.0.0.1:8600"
  }`,
			summary: "Duplicate discovery block", detail: `SRV records of "_http._tcp.web.internal", as the discovery "dns" block at line 6`, line: 9, col: 3,
		},
		{
			name: "two dns blocks for one A name with other ports",
			body: `  discovery "dns" {
    name = "web.internal"
    port = 8080
  }
  discovery "dns" {
    name = "web.internal"
    type = "a"
    port = 9090
  }`,
			summary: "Duplicate discovery block", detail: `A records of "web.internal"`, line: 10, col: 3,
		},

		// etcd: endpoints.
		{
			name: "etcd without endpoints",
			body: `  discovery "etcd" {
    prefix = "/lb/pools/web/"
  }`,
			summary: "Missing required argument", detail: `add endpoints = ["127.0.0.1:2379"]`, line: 6, col: 3,
		},
		{
			name: "etcd with no endpoint listed",
			body: `  discovery "etcd" {
    endpoints = []
    prefix    = "/lb/pools/web/"
  }`,
			summary: "No etcd endpoint", detail: "list at least one", line: 7, col: 17,
		},
		{
			name: "etcd endpoints as a string",
			body: `  discovery "etcd" {
    endpoints = "127.0.0.1:2379"
    prefix    = "/lb/pools/web/"
  }`,
			summary: "Unsuitable value type", line: 7, col: 18, // inside the quotes, as hcl points
		},
		{
			name: "etcd endpoint without a port",
			body: `  discovery "etcd" {
    endpoints = ["127.0.0.1:2379", "127.0.0.2"]
    prefix    = "/lb/pools/web/"
  }`,
			summary: "Invalid etcd endpoint", detail: `"127.0.0.2" is not host:port`, line: 7, col: 36,
		},
		{
			name: "etcd URL without a port",
			body: `  discovery "etcd" {
    endpoints = ["https://etcd.internal"]
    prefix    = "/lb/pools/web/"
  }`,
			summary: "Invalid etcd endpoint", detail: "not host:port", line: 7, col: 18,
		},
		{
			name: "etcd endpoint on port 0",
			body: `  discovery "etcd" {
    endpoints = ["127.0.0.1:0"]
    prefix    = "/lb/pools/web/"
  }`,
			summary: "Invalid etcd endpoint", detail: "port 0", line: 7, col: 18,
		},
		{
			name: "etcd endpoint without a host",
			body: `  discovery "etcd" {
    endpoints = [":2379"]
    prefix    = "/lb/pools/web/"
  }`,
			summary: "Invalid etcd endpoint", detail: "has no host", line: 7, col: 18,
		},
		{
			name: "etcd endpoint with a unix scheme",
			body: `  discovery "etcd" {
    endpoints = ["unix://etcd.sock:0"]
    prefix    = "/lb/pools/web/"
  }`,
			summary: "Invalid etcd endpoint", detail: `has scheme "unix"`, line: 7, col: 18,
		},
		{
			name: "etcd endpoint with a path",
			body: `  discovery "etcd" {
    endpoints = ["http://127.0.0.1:2379/v3"]
    prefix    = "/lb/pools/web/"
  }`,
			summary: "Invalid etcd endpoint", detail: "path", line: 7, col: 18,
		},
		{
			name: "etcd endpoint with a user",
			body: `  discovery "etcd" {
    endpoints = ["http://lb:pw@127.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
  }`,
			summary: "Invalid etcd endpoint", detail: "user", line: 7, col: 18,
		},
		{
			name: "etcd endpoint listed twice",
			body: `  discovery "etcd" {
    endpoints = ["127.0.0.1:2379", "http://127.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
  }`,
			summary: "Duplicate etcd endpoint", detail: `"http://127.0.0.1:2379" is the same member as "127.0.0.1:2379"`, line: 7, col: 36,
		},
		{
			name: "etcd endpoints mixing http and https",
			body: `  discovery "etcd" {
    endpoints = ["http://10.0.0.1:2379", "https://10.0.0.2:2379"]
    prefix    = "/lb/pools/web/"
  }`,
			summary: "Mixed etcd endpoint schemes", detail: `"https://10.0.0.2:2379" and "http://10.0.0.1:2379"`, line: 7, col: 42,
		},
		{
			name: "etcd http endpoint with a tls block",
			body: `  discovery "etcd" {
    endpoints = ["http://10.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
    tls {
      ca_file = "ca.pem"
    }
  }`,
			summary: "Plaintext endpoint with TLS", detail: `write it as "https://10.0.0.1:2379"`, line: 7, col: 18,
		},

		// etcd: prefix.
		{
			name: "etcd without prefix",
			body: `  discovery "etcd" {
    endpoints = ["127.0.0.1:2379"]
  }`,
			summary: "Missing required argument", detail: `add prefix = "/lb/pools/web/"`, line: 6, col: 3,
		},
		{
			name: "etcd with an empty prefix",
			body: `  discovery "etcd" {
    endpoints = ["127.0.0.1:2379"]
    prefix    = ""
  }`,
			summary: "Empty value", detail: "needs a value for prefix", line: 8, col: 17,
		},

		// etcd: authentication.
		{
			name: "username without password_file",
			body: `  discovery "etcd" {
    endpoints = ["127.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
    username  = "lb"
  }`,
			summary: "Username without password", detail: `add password_file = "etcd.pass"`, line: 9, col: 17,
		},
		{
			name: "password_file without username",
			body: `  discovery "etcd" {
    endpoints     = ["127.0.0.1:2379"]
    prefix        = "/lb/pools/web/"
    password_file = "etcd.pass"
  }`,
			summary: "Password without username", detail: `add username = "lb"`, line: 9, col: 21,
		},
		{
			name: "password inline",
			body: `  discovery "etcd" {
    endpoints = ["127.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
    password  = "s3cret"
  }`,
			summary: "Unsupported argument", line: 9, col: 5,
		},
		{
			name: "missing password_file",
			body: `  discovery "etcd" {
    endpoints     = ["127.0.0.1:2379"]
    prefix        = "/lb/pools/web/"
    username      = "lb"
    password_file = "nope.pass"
  }`,
			summary: "Cannot read password file", detail: "no such file or directory", line: 10, col: 21,
		},
		{
			name: "password_file is a directory",
			body: `  discovery "etcd" {
    endpoints     = ["127.0.0.1:2379"]
    prefix        = "/lb/pools/web/"
    username      = "lb"
    password_file = "."
  }`,
			summary: "Cannot read password file", detail: "is a directory", line: 10, col: 21,
		},
		{
			name: "password_file is a device",
			body: `  discovery "etcd" {
    endpoints     = ["127.0.0.1:2379"]
    prefix        = "/lb/pools/web/"
    username      = "lb"
    password_file = "/dev/zero"
  }`,
			summary: "Cannot read password file", detail: "not a regular file", line: 10, col: 21,
		},
		{
			name: "empty password_file",
			body: `  discovery "etcd" {
    endpoints     = ["127.0.0.1:2379"]
    prefix        = "/lb/pools/web/"
    username      = "lb"
    password_file = "empty.pass"
  }`,
			summary: "Empty password file", detail: `password of user "lb"`, line: 10, col: 21,
		},
		{
			name: "empty username",
			body: `  discovery "etcd" {
    endpoints     = ["127.0.0.1:2379"]
    prefix        = "/lb/pools/web/"
    username      = ""
    password_file = "etcd.pass"
  }`,
			summary: "Empty value", detail: "username must not be empty", line: 9, col: 21,
		},

		// etcd: dial_timeout.
		{
			name: "dial_timeout negative",
			body: `  discovery "etcd" {
    endpoints    = ["127.0.0.1:2379"]
    prefix       = "/lb/pools/web/"
    dial_timeout = "-1s"
  }`,
			summary: "Invalid duration", detail: "dial_timeout must be longer than zero", line: 9, col: 20,
		},
		{
			name: "dial_timeout without a unit",
			body: `  discovery "etcd" {
    endpoints    = ["127.0.0.1:2379"]
    prefix       = "/lb/pools/web/"
    dial_timeout = "5"
  }`,
			summary: "Invalid duration", detail: `dial_timeout = "5"`, line: 9, col: 20,
		},

		// etcd: tls.
		{
			name: "client certificate without key",
			body: `  discovery "etcd" {
    endpoints = ["https://127.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
    tls {
      cert_file = "api.crt"
    }
  }`,
			summary: "Certificate without key", detail: `add key_file = "client.key"`, line: 10, col: 19,
		},
		{
			name: "client key without certificate",
			body: `  discovery "etcd" {
    endpoints = ["https://127.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
    tls {
      key_file = "api.key"
    }
  }`,
			summary: "Key without certificate", detail: `add cert_file = "client.crt"`, line: 10, col: 18,
		},
		{
			name: "unreadable ca_file",
			body: `  discovery "etcd" {
    endpoints = ["https://127.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
    tls {
      ca_file = "nope.pem"
    }
  }`,
			summary: "Cannot read ca_file", detail: "no such file or directory", line: 10, col: 17,
		},
		{
			name: "ca_file without a certificate",
			body: `  discovery "etcd" {
    endpoints = ["https://127.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
    tls {
      ca_file = "garbage.pem"
    }
  }`,
			summary: "Invalid CA file", detail: "no PEM certificate found", line: 10, col: 17,
		},
		{
			name: "unreadable cert_file",
			body: `  discovery "etcd" {
    endpoints = ["https://127.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
    tls {
      cert_file = "nope.crt"
      key_file  = "api.key"
    }
  }`,
			summary: "Cannot read cert_file", detail: "no such file or directory", line: 10, col: 19,
		},
		{
			name: "unreadable key_file",
			body: `  discovery "etcd" {
    endpoints = ["https://127.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
    tls {
      cert_file = "api.crt"
      key_file  = "nope.key"
    }
  }`,
			summary: "Cannot read key_file", detail: "no such file or directory", line: 11, col: 19,
		},
		{
			name: "key of another certificate",
			body: `  discovery "etcd" {
    endpoints = ["https://127.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
    tls {
      cert_file = "api.crt"
      key_file  = "www.key"
    }
  }`,
			summary: "Invalid key pair", detail: "private key of the certificate", line: 11, col: 19,
		},
		{
			name: "unknown tls attribute",
			body: `  discovery "etcd" {
    endpoints = ["https://127.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
    tls {
      insecure_skip_verify = true
    }
  }`,
			summary: "Unsupported argument", line: 10, col: 7,
		},

		// etcd: two blocks for one prefix.
		{
			name: "two etcd blocks for one prefix of one cluster",
			body: `  discovery "etcd" {
    endpoints = ["10.0.0.1:2379", "10.0.0.2:2379"]
    prefix    = "/lb/pools/web/"
  }
  discovery "etcd" {
    endpoints = ["http://10.0.0.2:2379", "http://10.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
  }`,
			summary: "Duplicate discovery block", detail: `prefix "/lb/pools/web/" from the same etcd endpoints, as the discovery "etcd" block at line 6`, line: 10, col: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := f.loadPool(t, tt.body)
			if cfg != nil {
				t.Errorf("Load returned a Config along with errors")
			}
			d := mustOneDiag(t, diags)
			if d.Severity != hcl.DiagError {
				t.Errorf("severity = %v, want error", d.Severity)
			}
			if !strings.Contains(d.Summary, tt.summary) {
				t.Errorf("summary = %q, want it to contain %q", d.Summary, tt.summary)
			}
			if d.Detail == "" || !strings.Contains(d.Detail, tt.detail) {
				t.Errorf("detail = %q, want it to contain %q", d.Detail, tt.detail)
			}
			if d.Subject == nil {
				t.Fatalf("diagnostic has no subject: %s; %s", d.Summary, d.Detail)
			}
			if filepath.Base(d.Subject.Filename) != "lb.hcl" || d.Subject.Start.Line != tt.line || d.Subject.Start.Column != tt.col {
				t.Errorf("at %s, want lb.hcl line %d column %d", d.Subject, tt.line, tt.col)
			}
			if strings.Contains(d.Error(), "s3cret") || strings.Contains(d.Error(), "pa ss") {
				t.Errorf("the diagnostic quotes a password: %s", d.Error())
			}
		})
	}
}

// TestDiscoveryMistakesInOnePass: mistakes in several discovery blocks
// of one pool are all reported, in file order.
func TestDiscoveryMistakesInOnePass(t *testing.T) {
	f := newDiscoveryFixture(t)
	_, diags := f.loadPool(t, `  discovery "dns" {
    name    = "web.internal"
    refresh = "1h"
  }
  discovery "consul" {}
  discovery "etcd" {
    endpoints = ["127.0.0.1"]
    username  = "lb"
  }`)
	dir := f.dir + string(filepath.Separator)
	var got []string
	for _, d := range diags {
		got = append(got, strings.TrimPrefix(d.Subject.String(), dir)+" "+d.Summary)
	}
	want := []string{
		"lb.hcl:6,3-18 Missing required argument", // port, for type a
		"lb.hcl:8,15-19 Value out of range",
		"lb.hcl:10,13-21 Unknown discovery type",
		"lb.hcl:11,3-19 Missing required argument", // prefix
		"lb.hcl:12,18-29 Invalid etcd endpoint",
		"lb.hcl:13,17-21 Username without password",
	}
	if !slices.Equal(got, want) {
		t.Errorf("diagnostics:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestDiscoveryWarnsOfPrefixWithoutSlash(t *testing.T) {
	f := newDiscoveryFixture(t)
	cfg, diags := f.loadPool(t, `  discovery "etcd" {
    endpoints = ["127.0.0.1:2379"]
    prefix    = "/lb/pools/web"
  }`)
	d := mustOneDiag(t, diags)
	if d.Severity != hcl.DiagWarning || d.Summary != "Prefix does not end with a slash" ||
		!strings.Contains(d.Detail, `"/lb/pools/web/"`) || d.Subject.Start.Line != 8 || d.Subject.Start.Column != 17 {
		t.Errorf("got %s", d.Error())
	}
	if cfg == nil || cfg.Pool("web").Discovery[0].Etcd.Prefix != "/lb/pools/web" {
		t.Fatalf("a warning stopped the file from loading, or changed the prefix")
	}
}

func TestDiscoveryValues(t *testing.T) {
	f := newDiscoveryFixture(t)
	tests := []struct {
		name string
		body string
		dns  *DNSDiscovery
		etcd *EtcdDiscovery // TLS and tlsSum are checked apart
	}{
		{
			name: "dns srv with defaults",
			body: `  discovery "dns" {
    name = "_HTTP._tcp.Web.Service.Internal."
  }`,
			dns: &DNSDiscovery{Name: "_http._tcp.web.service.internal", Type: DNSRecordSRV, Timeout: DefaultDNSTimeout},
		},
		{
			name: "dns a with every attribute",
			body: `  discovery "dns" {
    name     = "web.internal"
    port     = 8080
    resolver = "[0:0::1]:8600"
    refresh  = "5s"
    timeout  = "500ms"
  }`,
			dns: &DNSDiscovery{Name: "web.internal", Type: DNSRecordA, Port: 8080, Resolver: "[::1]:8600",
				Refresh: 5 * time.Second, Timeout: 500 * time.Millisecond},
		},
		{
			name: "dns srv written, name without underscore",
			body: `  discovery "dns" {
    name     = "web.service.consul"
    type     = "srv"
    resolver = "127.0.0.1:8600"
    refresh  = "1s"
  }`,
			dns: &DNSDiscovery{Name: "web.service.consul", Type: DNSRecordSRV, Resolver: "127.0.0.1:8600",
				Refresh: time.Second, Timeout: DefaultDNSTimeout},
		},
		{
			name: "dns a written for an underscore name, longest refresh",
			body: `  discovery "dns" {
    name    = "_web.internal"
    type    = "a"
    port    = 1
    refresh = "5m"
  }`,
			dns: &DNSDiscovery{Name: "_web.internal", Type: DNSRecordA, Port: 1, Refresh: 5 * time.Minute, Timeout: DefaultDNSTimeout},
		},
		{
			name: "etcd with defaults",
			body: `  discovery "etcd" {
    endpoints = ["127.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
  }`,
			etcd: &EtcdDiscovery{Endpoints: []string{"127.0.0.1:2379"}, Prefix: "/lb/pools/web/", DialTimeout: DefaultEtcdDialTimeout},
		},
		{
			name: "etcd with authentication",
			body: `  discovery "etcd" {
    endpoints     = ["http://10.0.0.1:2379", "10.0.0.2:2379"]
    prefix        = "/lb/pools/web/"
    username      = "lb"
    password_file = "etcd.pass"
    dial_timeout  = "1s"
  }`,
			etcd: &EtcdDiscovery{Endpoints: []string{"http://10.0.0.1:2379", "10.0.0.2:2379"}, Prefix: "/lb/pools/web/",
				Username: "lb", Password: "s3cret", PasswordFile: "etcd.pass", DialTimeout: time.Second},
		},
		{
			name: "password keeps its spaces, loses its line break",
			body: `  discovery "etcd" {
    endpoints     = ["127.0.0.1:2379"]
    prefix        = "/"
    username      = "root"
    password_file = "spaced.pass"
  }`,
			etcd: &EtcdDiscovery{Endpoints: []string{"127.0.0.1:2379"}, Prefix: "/",
				Username: "root", Password: " pa ss ", PasswordFile: "spaced.pass", DialTimeout: DefaultEtcdDialTimeout},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := f.loadPool(t, tt.body)
			mustNoDiags(t, diags)
			p := cfg.Pool("web")
			if len(p.Backends) != 0 || len(p.Discovery) != 1 {
				t.Fatalf("pool has %d backends and %d discovery blocks, want 0 and 1", len(p.Backends), len(p.Discovery))
			}
			d := p.Discovery[0]
			if d.DeclRange.Start.Line != 6 || d.DeclRange.Start.Column != 3 {
				t.Errorf("DeclRange = %s, want line 6 column 3", d.DeclRange)
			}
			switch {
			case tt.dns != nil:
				if d.Type != DiscoveryDNS || d.Etcd != nil || d.DNS == nil || *d.DNS != *tt.dns {
					t.Errorf("got %s %+v %+v, want dns %+v", d.Type, d.DNS, d.Etcd, tt.dns)
				}
			default:
				e := d.Etcd
				if d.Type != DiscoveryEtcd || d.DNS != nil || e == nil {
					t.Fatalf("got %s %+v %+v, want etcd", d.Type, d.DNS, e)
				}
				if e.TLS != nil {
					t.Errorf("TLS = %+v, want nil for a plain connection", e.TLS)
				}
				e.TLS = nil
				if !e.equal(tt.etcd) {
					t.Errorf("got %+v, want %+v", e, tt.etcd)
				}
			}
		})
	}
}

func TestDiscoveryEtcdTLS(t *testing.T) {
	f := newDiscoveryFixture(t)
	tests := []struct {
		name       string
		body       string
		rootCAs    bool // RootCAs set, from ca_file
		clientCert bool
	}{
		{
			name: "https endpoint without a tls block: the system's roots",
			body: `  discovery "etcd" {
    endpoints = ["https://127.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
  }`,
		},
		{
			name: "empty tls block: the system's roots",
			body: `  discovery "etcd" {
    endpoints = ["127.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
    tls {}
  }`,
		},
		{
			name: "a private CA",
			body: `  discovery "etcd" {
    endpoints = ["https://127.0.0.1:2379", "127.0.0.2:2379"]
    prefix    = "/lb/pools/web/"
    tls {
      ca_file = "ca.pem"
    }
  }`,
			rootCAs: true,
		},
		{
			name: "a private CA and a client certificate",
			body: `  discovery "etcd" {
    endpoints = ["127.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
    tls {
      ca_file   = "ca.pem"
      cert_file = "api.crt"
      key_file  = "` + filepath.Join(f.dir, "api.key") + `"
    }
  }`,
			rootCAs: true, clientCert: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := f.loadPool(t, tt.body)
			mustNoDiags(t, diags)
			c := cfg.Pool("web").Discovery[0].Etcd.TLS
			if c == nil {
				t.Fatalf("TLS is nil")
			}
			if c.MinVersion != tls.VersionTLS12 || c.InsecureSkipVerify {
				t.Errorf("MinVersion = %x, InsecureSkipVerify = %v; want TLS 1.2 and verification", c.MinVersion, c.InsecureSkipVerify)
			}
			if (c.RootCAs != nil) != tt.rootCAs {
				t.Errorf("RootCAs = %v, want set: %v", c.RootCAs, tt.rootCAs)
			}
			if tt.rootCAs && !c.RootCAs.Equal(f.ca.Pool()) {
				t.Errorf("RootCAs is not the fixture's CA")
			}
			if got := len(c.Certificates); got != map[bool]int{false: 0, true: 1}[tt.clientCert] {
				t.Errorf("%d client certificates, want one: %v", got, tt.clientCert)
			}
		})
	}
}

// TestPoolBackendsAndDiscovery: static backends and discovery blocks mix,
// discovery blocks keep file order, and a pool with discovery needs no
// backend block.
func TestPoolBackendsAndDiscovery(t *testing.T) {
	cfg, diags := Parse([]byte(`listener "l" {
  address = "127.0.0.1:8080"
  pool    = "web"
  route {
    path_prefix = "/api/"
    pool        = "api"
  }
}
pool "web" {
  backend "127.0.0.1:9001" {}
  discovery "dns" { name = "_http._tcp.web.internal" }
  backend "127.0.0.1:9002" {}
  discovery "etcd" {
    endpoints = ["127.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
  }
  discovery "dns" {
    name = "web.internal"
    port = 8080
  }
}
pool "api" {
  discovery "etcd" {
    endpoints = ["127.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
  }
}
`), "lb.hcl")
	mustNoDiags(t, diags)
	web := cfg.Pool("web")
	if len(web.Backends) != 2 {
		t.Errorf("web has %d backends, want 2", len(web.Backends))
	}
	var kinds []string
	for _, d := range web.Discovery {
		kinds = append(kinds, d.Type)
	}
	if want := []string{"dns", "etcd", "dns"}; !slices.Equal(kinds, want) {
		t.Errorf("web's discovery blocks = %v, want %v", kinds, want)
	}
	if web.Discovery[0].DNS.Type != DNSRecordSRV || web.Discovery[2].DNS.Type != DNSRecordA {
		t.Errorf("record types %q and %q, want srv and a", web.Discovery[0].DNS.Type, web.Discovery[2].DNS.Type)
	}
	// Another pool may read the same prefix: only one pool's blocks are
	// compared with each other.
	api := cfg.Pool("api")
	if len(api.Backends) != 0 || len(api.Discovery) != 1 || !api.Discovery[0].Equal(web.Discovery[1]) {
		t.Errorf("api = %d backends, %d discovery blocks; want 0 and 1, equal to web's etcd block", len(api.Backends), len(api.Discovery))
	}
	if len(cfg.Pool("web").HealthCheck.ExpectedStatus) == 0 {
		t.Errorf("a pool with discovery lost its health check defaults")
	}
}
