package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// TLS versions, the valid values of a listener tls block's "min_version".
const (
	TLSVersion12 = "1.2"
	TLSVersion13 = "1.3"
)

// Defaults and limits of a listener's tls block.
const (
	// DefaultTLSMinVersion is min_version's default: TLS 1.2, as
	// RFC 8996 deprecates 1.0 and 1.1 and every current client speaks 1.2.
	DefaultTLSMinVersion = TLSVersion12

	// MaxPEMFileSize bounds a cert_file, key_file or ca_file, in bytes;
	// a larger file (or a device, FIFO or directory) is refused at load.
	MaxPEMFileSize = 1 << 20
)

// ALPNProtocol is the only protocol a TLS listener advertises in ALPN:
// the LB speaks HTTP/1.1 to clients (fasthttp has no HTTP/2).
const ALPNProtocol = "http/1.1"

// ListenerTLS is a listener's "tls" block: the listener accepts TLS only,
// picks a certificate by the client's SNI server name and answers clients
// that send none (or a name no certificate has) with the default
// certificate.
type ListenerTLS struct {
	// MinVersion is the oldest TLS version accepted, a crypto/tls
	// constant ("min_version": "1.2" or "1.3", default "1.2"). Older
	// handshakes fail with a protocol_version alert.
	MinVersion uint16

	// Certificates are the "certificate" blocks, in file order; there is
	// at least one, exactly one has IsDefault, and no server name is in
	// two of them.
	Certificates []*Certificate

	// DeclRange is where the block is declared.
	DeclRange hcl.Range
}

// Default returns the certificate served to clients without a matching
// SNI name: the one marked default = true, else the first.
func (t *ListenerTLS) Default() *Certificate {
	for _, c := range t.Certificates {
		if c.IsDefault {
			return c
		}
	}
	if len(t.Certificates) > 0 {
		return t.Certificates[0]
	}
	return nil
}

// Certificate is a `certificate "NAME"` block inside a listener's tls
// block: one certificate chain and its key, read and checked at load.
type Certificate struct {
	// Name is the block label (for logs and diagnostics); unique in the
	// listener.
	Name string

	// CertFile is "cert_file" as written (required): a PEM file with the
	// certificate, then any intermediates. A relative path is taken from
	// the configuration file's directory.
	CertFile string

	// KeyFile is "key_file" as written (required): the PEM private key
	// (PKCS#1, PKCS#8 or EC) matching the certificate.
	KeyFile string

	// ServerNames are the SNI names this certificate answers, lower-case
	// ("server_names", default: the certificate's DNS SANs). A name may
	// be a wildcard "*.example.com", which matches exactly one label.
	ServerNames []string

	// IsDefault marks the certificate served without a matching SNI name
	// ("default", default false; when no certificate sets it, the first
	// one is the default and has IsDefault set).
	IsDefault bool

	// KeyPair is the parsed chain and key, Leaf set. It is read once, at
	// load: a reload reads the files again.
	KeyPair *tls.Certificate

	// DeclRange is where the block is declared.
	DeclRange hcl.Range
}

// listenerTLSBlock is a tls block inside a listener.
type listenerTLSBlock struct {
	MinVersion   hcl.Expression      `hcl:"min_version,optional"`
	Certificates []*certificateBlock `hcl:"certificate,block"`

	DeclRange hcl.Range `hcl:",def_range"`
}

// certificateBlock is a `certificate "NAME"` block inside a listener's tls.
type certificateBlock struct {
	Name      string    `hcl:"name,label"`
	NameRange hcl.Range `hcl:"name,label_range"`

	CertFile    hcl.Expression `hcl:"cert_file,optional"`
	KeyFile     hcl.Expression `hcl:"key_file,optional"`
	ServerNames hcl.Expression `hcl:"server_names,optional"`
	Default     hcl.Expression `hcl:"default,optional"`

	DeclRange hcl.Range `hcl:",def_range"`
}

// decodeListenerTLSBlock decodes a listener's tls block, reading every
// certificate and key file. b is nil for a plain listener, which gives nil.
func decodeListenerTLSBlock(b *listenerTLSBlock) (*ListenerTLS, hcl.Diagnostics) {
	if b == nil {
		return nil, nil
	}
	var diags hcl.Diagnostics
	t := &ListenerTLS{DeclRange: b.DeclRange}

	version, moreDiags := decodeText("min_version", b.MinVersion, DefaultTLSMinVersion)
	diags = append(diags, moreDiags...)
	switch version {
	case "":
	case TLSVersion12:
		t.MinVersion = tls.VersionTLS12
	case TLSVersion13:
		t.MinVersion = tls.VersionTLS13
	case "1.0", "1.1":
		diags = append(diags, errorf(b.MinVersion.Range(), "TLS version too old",
			"min_version = %q is refused: TLS 1.0 and 1.1 are deprecated (RFC 8996). Use %q (the default) or %q.", version, TLSVersion12, TLSVersion13))
	default:
		diags = append(diags, errorf(b.MinVersion.Range(), "Unknown TLS version",
			"min_version = %q is not supported; use %q (the default) or %q.", version, TLSVersion12, TLSVersion13))
	}

	if len(b.Certificates) == 0 {
		diags = append(diags, errorf(b.DeclRange, "No certificate",
			"A tls block needs at least one certificate block, such as certificate \"site\" { cert_file = \"site.crt\"  key_file = \"site.key\" }."))
	}
	names := map[string]*certificateBlock{}
	served := map[string]*certificateBlock{}
	var defaults []*certificateBlock
	for _, cb := range b.Certificates {
		c, moreDiags := decodeCertificateBlock(cb)
		diags = append(diags, moreDiags...)
		t.Certificates = append(t.Certificates, c)
		if first, dup := names[cb.Name]; dup {
			diags = append(diags, errorf(cb.NameRange, "Duplicate certificate name",
				"A certificate named %q is already declared at %s in this listener; give each its own name.", cb.Name, lineOf(first.DeclRange)))
		}
		names[cb.Name] = cb
		if c.IsDefault {
			defaults = append(defaults, cb)
		}
		for _, n := range c.ServerNames {
			if first, dup := served[n]; dup {
				diags = append(diags, errorf(serverNamesRange(cb), "Server name served twice",
					"%q is already served by certificate %q at %s; each SNI name picks one certificate. List the names each certificate serves with server_names.",
					n, first.Name, lineOf(first.DeclRange)))
				continue
			}
			served[n] = cb
		}
	}
	if len(defaults) > 1 {
		diags = append(diags, errorf(defaults[1].Default.Range(), "Two default certificates",
			"Certificate %q at %s is already the default; only one certificate may set default = true.", defaults[0].Name, lineOf(defaults[0].DeclRange)))
	}
	if len(defaults) == 0 && len(t.Certificates) > 0 {
		t.Certificates[0].IsDefault = true
	}
	for i, c := range t.Certificates {
		if !c.IsDefault && len(c.ServerNames) == 0 && c.KeyPair != nil {
			diags = append(diags, errorf(b.Certificates[i].DeclRange, "Certificate never served",
				"Certificate %q has no DNS name in its SANs and no server_names, and it is not the default, so no client would ever get it. Add server_names = [\"www.example.com\"], or set default = true.", c.Name))
		}
	}
	return t, diags
}

// serverNamesRange is where to point at a certificate's names: its
// server_names when written, else the block.
func serverNamesRange(cb *certificateBlock) hcl.Range {
	if written(cb.ServerNames) {
		return cb.ServerNames.Range()
	}
	return cb.DeclRange
}

// decodeCertificateBlock decodes one certificate block and loads its key
// pair. Names from the certificate are used when server_names is absent.
func decodeCertificateBlock(b *certificateBlock) (*Certificate, hcl.Diagnostics) {
	var diags, moreDiags hcl.Diagnostics
	c := &Certificate{Name: b.Name, DeclRange: b.DeclRange}
	what := fmt.Sprintf("certificate %q", b.Name)
	if b.Name == "" {
		diags = append(diags, errorf(b.NameRange, "Invalid certificate name",
			"A certificate needs a non-empty name, such as certificate \"site\"."))
	}
	c.CertFile, moreDiags = requireText(what, "cert_file", `"site.crt"`, b.CertFile, b.DeclRange)
	diags = append(diags, moreDiags...)
	c.KeyFile, moreDiags = requireText(what, "key_file", `"site.key"`, b.KeyFile, b.DeclRange)
	diags = append(diags, moreDiags...)

	c.IsDefault, moreDiags = decodeFlag(b.Default, false)
	diags = append(diags, moreDiags...)

	names, set, moreDiags := decodeValue[[]string](b.ServerNames)
	diags = append(diags, moreDiags...)
	if set {
		if len(names) == 0 {
			diags = append(diags, errorf(b.ServerNames.Range(), "Empty server_names",
				"server_names lists no name; remove it to serve the certificate's own DNS names, or list names such as [\"www.example.com\"]."))
		}
		for _, n := range names {
			norm, err := normalizeServerName(n)
			if err != nil {
				diags = append(diags, errorf(b.ServerNames.Range(), "Invalid server name", "%s. Write DNS names such as \"www.example.com\" or \"*.example.com\", without port or scheme.", err))
				continue
			}
			if !slices.Contains(c.ServerNames, norm) {
				c.ServerNames = append(c.ServerNames, norm)
			}
		}
	}

	if c.CertFile == "" || c.KeyFile == "" {
		return c, diags
	}
	pair, moreDiags := loadKeyPair(c.CertFile, c.KeyFile, b.CertFile.Range(), b.KeyFile.Range())
	diags = append(diags, moreDiags...)
	if pair == nil {
		return c, diags
	}
	c.KeyPair = pair
	leaf := pair.Leaf
	if !set {
		for _, n := range leaf.DNSNames {
			if norm, err := normalizeServerName(n); err == nil && !slices.Contains(c.ServerNames, norm) {
				c.ServerNames = append(c.ServerNames, norm)
			}
		}
	}
	for _, n := range c.ServerNames {
		if !strings.HasPrefix(n, "*.") && leaf.VerifyHostname(n) != nil {
			diags = append(diags, warnf(serverNamesRange(b), "Certificate does not cover server name",
				"%s does not list %q in its SANs, so clients that verify it will refuse the connection for that name.", c.CertFile, n))
		}
	}
	if now := time.Now(); now.After(leaf.NotAfter) || now.Before(leaf.NotBefore) {
		diags = append(diags, warnf(b.CertFile.Range(), "Certificate not valid now",
			"%s is valid from %s to %s; clients that verify it will refuse the connection. Renew it and reload.",
			c.CertFile, leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339)))
	}
	return c, diags
}

// loadKeyPair reads and parses a certificate chain and its key. A file
// that cannot be read is reported at its attribute, and so is a file that
// holds no PEM of the right kind; a key that does not match the
// certificate is reported at key_file.
func loadKeyPair(certFile, keyFile string, certRng, keyRng hcl.Range) (*tls.Certificate, hcl.Diagnostics) {
	pair, _, _, diags := readKeyPair(certFile, keyFile, certRng, keyRng)
	return pair, diags
}

// readKeyPair is loadKeyPair that also returns the two files' contents,
// as parsed, when the pair is valid.
func readKeyPair(certFile, keyFile string, certRng, keyRng hcl.Range) (pair *tls.Certificate, certPEM, keyPEM []byte, diags hcl.Diagnostics) {
	var d *hcl.Diagnostic
	certPEM, d = readPEMFile(certFile, certRng, "cert_file", "the certificate chain")
	if d != nil {
		diags = append(diags, d)
	}
	keyPEM, d = readPEMFile(keyFile, keyRng, "key_file", "the private key")
	if d != nil {
		diags = append(diags, d)
	}
	if diags.HasErrors() {
		return nil, nil, nil, diags
	}
	if _, err := x509ChainOf(certPEM); err != nil {
		return nil, nil, nil, append(diags, errorf(certRng, "Invalid certificate",
			"%s: %v. cert_file must hold the PEM certificate (BEGIN CERTIFICATE), then any intermediates.", certFile, err))
	}
	p, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, nil, append(diags, errorf(keyRng, "Invalid key pair",
			"%s with %s: %v. key_file must hold the PEM private key of the certificate in cert_file.", keyFile, certFile, err))
	}
	return &p, certPEM, keyPEM, diags
}

// x509ChainOf parses every CERTIFICATE block of pemData; it fails when
// there is none or one does not parse.
func x509ChainOf(pemData []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for rest := pemData; ; {
		var der []byte
		der, rest = nextPEM(rest, "CERTIFICATE")
		if der == nil {
			break
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no PEM certificate found")
	}
	return out, nil
}

// readPEMFile reads a small PEM file named by the attribute at rng
// (attr, holding what), relative to the configuration file's directory.
func readPEMFile(path string, rng hcl.Range, attr, what string) ([]byte, *hcl.Diagnostic) {
	raw, err := readSmallRegularFile(besideConfig(path, rng), MaxPEMFileSize)
	if err != nil {
		return nil, errorf(rng, "Cannot read "+attr,
			"%v. %s must name a readable regular PEM file (at most %d bytes) holding %s; a relative path is taken from the configuration file's directory.",
			err, attr, MaxPEMFileSize, what)
	}
	return raw, nil
}

// normalizeServerName lower-cases a DNS name and checks it is a host name
// or a "*." wildcard of one; a trailing dot is dropped.
func normalizeServerName(n string) (string, error) {
	s := strings.TrimSuffix(strings.ToLower(n), ".")
	body := strings.TrimPrefix(s, "*.")
	if body == "" || strings.Contains(body, "*") {
		return "", fmt.Errorf("%q is not a DNS name or a \"*.\" wildcard", n)
	}
	for _, label := range strings.Split(body, ".") {
		if label == "" || len(label) > 63 {
			return "", fmt.Errorf("%q has an empty or over-long label", n)
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("%q has the character %q, not allowed in a DNS name", n, c)
			}
		}
	}
	return s, nil
}
