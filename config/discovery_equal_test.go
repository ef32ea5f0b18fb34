package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbtrust/lb/internal/testcert"
)

// equalDNS and equalEtcd write every attribute, so each can be changed
// on its own.
const (
	equalDNS = `  discovery "dns" {
    name     = "web.internal"
    type     = "a"
    port     = 8080
    resolver = "127.0.0.1:8600"
    refresh  = "5s"
    timeout  = "1s"
  }`
	equalEtcd = `  discovery "etcd" {
    endpoints     = ["127.0.0.1:2379", "127.0.0.2:2379"]
    prefix        = "/lb/pools/web/"
    username      = "lb"
    password_file = "etcd.pass"
    dial_timeout  = "3s"
    tls {
      ca_file   = "ca.pem"
      cert_file = "api.crt"
      key_file  = "api.key"
    }
  }`
)

// loadOne loads a pool holding body and returns its first discovery
// block.
func (f *tlsFixture) loadOne(t *testing.T, body string) *Discovery {
	t.Helper()
	cfg, diags := f.loadPool(t, body)
	mustNoDiags(t, diags)
	return cfg.Pool("web").Discovery[0]
}

func TestDiscoveryEqual(t *testing.T) {
	f := newDiscoveryFixture(t)
	if err := os.WriteFile(filepath.Join(f.dir, "other.pass"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		base      string
		from, to  string // replaced once in base
		wantEqual bool
	}{
		{"dns unchanged", equalDNS, "", "", true},
		{"dns moved down the file", equalDNS, `  discovery "dns" {`, "\n\n  # moved\n  discovery \"dns\" {", true},
		{"dns name in another spelling", equalDNS, `"web.internal"`, `"Web.Internal."`, true},
		{"dns name", equalDNS, `"web.internal"`, `"api.internal"`, false},
		{"dns type", equalDNS, "type     = \"a\"\n    port     = 8080", `type     = "srv"`, false},
		{"dns port", equalDNS, "8080", "8081", false},
		{"dns resolver", equalDNS, `"127.0.0.1:8600"`, `"127.0.0.1:53"`, false},
		{"dns resolver removed", equalDNS, `resolver = "127.0.0.1:8600"`, "", false},
		{"dns refresh", equalDNS, `"5s"`, `"6s"`, false},
		{"dns refresh removed", equalDNS, `refresh  = "5s"`, "", false},
		{"dns timeout", equalDNS, `"1s"`, `"2s"`, false},

		{"etcd unchanged", equalEtcd, "", "", true},
		{"etcd moved down the file", equalEtcd, `  discovery "etcd" {`, "\n\n  discovery \"etcd\" {", true},
		{"etcd password from another file, same content", equalEtcd, `"etcd.pass"`, `"other.pass"`, false},
		{"etcd endpoints reordered", equalEtcd, `["127.0.0.1:2379", "127.0.0.2:2379"]`, `["127.0.0.2:2379", "127.0.0.1:2379"]`, false},
		{"etcd endpoint added", equalEtcd, `"127.0.0.2:2379"]`, `"127.0.0.2:2379", "127.0.0.3:2379"]`, false},
		{"etcd prefix", equalEtcd, `"/lb/pools/web/"`, `"/lb/pools/api/"`, false},
		{"etcd username", equalEtcd, `"lb"`, `"lb2"`, false},
		{"etcd password", equalEtcd, `"etcd.pass"`, `"spaced.pass"`, false},
		{"etcd dial_timeout", equalEtcd, `"3s"`, `"4s"`, false},
		{"etcd ca_file removed", equalEtcd, `ca_file   = "ca.pem"`, "", false},
		{"etcd client certificate", equalEtcd, `"api.crt"`, `"www.crt"`, false}, // www.key below
		{"etcd tls block removed", equalEtcd, "tls {\n      ca_file   = \"ca.pem\"\n      cert_file = \"api.crt\"\n      key_file  = \"api.key\"\n    }", "", false},
		{"etcd tls block emptied", equalEtcd, "ca_file   = \"ca.pem\"\n      cert_file = \"api.crt\"\n      key_file  = \"api.key\"", "", false},
		{"etcd ca_file by absolute path", equalEtcd, `"ca.pem"`, `"` + filepath.Join(f.dir, "ca.pem") + `"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := f.loadOne(t, tt.base)
			if !base.Equal(base) {
				t.Fatalf("a block is not Equal to itself")
			}
			changed := strings.Replace(tt.base, tt.from, tt.to, 1)
			if tt.name == "etcd client certificate" {
				changed = strings.Replace(changed, `"api.key"`, `"www.key"`, 1)
			}
			other := f.loadOne(t, changed)
			if got := base.Equal(other); got != tt.wantEqual {
				t.Errorf("Equal = %v, want %v\nbase  %+v %+v\nother %+v %+v", got, tt.wantEqual, base.DNS, base.Etcd, other.DNS, other.Etcd)
			}
			if got := other.Equal(base); got != tt.wantEqual {
				t.Errorf("Equal is not symmetric")
			}
		})
	}
}

// TestDiscoveryEqualFilesRewritten: a reload that reads a TLS or
// password file rewritten in place under the same name is a change.
func TestDiscoveryEqualFilesRewritten(t *testing.T) {
	for _, file := range []string{"ca.pem", "api.crt+api.key", "etcd.pass"} {
		t.Run(file, func(t *testing.T) {
			f := newDiscoveryFixture(t)
			before := f.loadOne(t, equalEtcd)
			if again := f.loadOne(t, equalEtcd); !before.Equal(again) {
				t.Fatalf("the same files loaded twice are not Equal")
			}
			write := func(name string, data []byte) {
				if err := os.WriteFile(filepath.Join(f.dir, name), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			switch file {
			case "ca.pem":
				write("ca.pem", testcert.MustCA("another CA").CertPEM)
			case "api.crt+api.key":
				p := f.ca.MustIssue("api.example.com")
				if _, _, err := p.WriteFiles(f.dir, "api"); err != nil {
					t.Fatal(err)
				}
			case "etcd.pass":
				write("etcd.pass", []byte("n3w\n"))
			}
			if after := f.loadOne(t, equalEtcd); before.Equal(after) {
				t.Errorf("%s rewritten in place, yet the blocks are Equal", file)
			}
		})
	}
}

func TestDiscoveryEqualNilAndKinds(t *testing.T) {
	f := newDiscoveryFixture(t)
	dns := f.loadOne(t, equalDNS)
	etcd := f.loadOne(t, equalEtcd)
	var none *Discovery
	for _, c := range []struct {
		name string
		a, b *Discovery
		want bool
	}{
		{"nil and nil", none, none, true},
		{"nil and a block", none, dns, false},
		{"a block and nil", dns, none, false},
		{"dns and etcd", dns, etcd, false},
		{"etcd and dns", etcd, dns, false},
		{"a block without settings", &Discovery{Type: DiscoveryDNS}, dns, false},
	} {
		if got := c.a.Equal(c.b); got != c.want {
			t.Errorf("%s: Equal = %v, want %v", c.name, got, c.want)
		}
	}
}
