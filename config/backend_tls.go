package config

import (
	"bytes"
	"crypto/x509"

	"github.com/hashicorp/hcl/v2"
)

// BackendTLS is a pool's "tls" block: the LB speaks TLS to the pool's
// backends, for traffic and for HTTP and gRPC health checks. The
// backend's certificate is verified unless InsecureSkipVerify.
type BackendTLS struct {
	// CAFile is "ca_file" as written (optional): a PEM file of the CA
	// certificates the backends' certificates must chain to. A relative
	// path is taken from the configuration file's directory. Empty means
	// the system's roots.
	CAFile string

	// RootCAs holds the certificates of CAFile, read at load; nil means
	// the system's roots.
	RootCAs *x509.CertPool

	// ServerName is the name sent in SNI and verified against the
	// backend's certificate ("server_name", default: the host of each
	// backend's address, so an IP address is checked against the
	// certificate's IP SANs).
	ServerName string

	// InsecureSkipVerify turns certificate verification off
	// ("insecure_skip_verify", default false). Traffic is still
	// encrypted but anyone on the path can impersonate the backend; a
	// warning says so at load. It may not be combined with ca_file.
	InsecureSkipVerify bool

	// DeclRange is where the block is declared.
	DeclRange hcl.Range

	caPEM []byte // CAFile's content, for Equal
}

// Equal reports whether t and o set up backend connections the same way:
// both nil, or the same server name, verification and CA certificates
// (by content, so a CA file rewritten in place is a change).
func (t *BackendTLS) Equal(o *BackendTLS) bool {
	if t == nil || o == nil {
		return t == o
	}
	return t.ServerName == o.ServerName && t.InsecureSkipVerify == o.InsecureSkipVerify &&
		bytes.Equal(t.caPEM, o.caPEM)
}

// backendTLSBlock is a tls block inside a pool.
type backendTLSBlock struct {
	CAFile             hcl.Expression `hcl:"ca_file,optional"`
	ServerName         hcl.Expression `hcl:"server_name,optional"`
	InsecureSkipVerify hcl.Expression `hcl:"insecure_skip_verify,optional"`

	DeclRange hcl.Range `hcl:",def_range"`
}

// decodeBackendTLSBlock decodes a pool's tls block, reading its ca_file.
// b is nil for a plain pool, which gives nil.
func decodeBackendTLSBlock(b *backendTLSBlock) (*BackendTLS, hcl.Diagnostics) {
	if b == nil {
		return nil, nil
	}
	var diags, moreDiags hcl.Diagnostics
	t := &BackendTLS{DeclRange: b.DeclRange}

	t.ServerName, moreDiags = decodeText("server_name", b.ServerName, "")
	diags = append(diags, moreDiags...)
	if t.ServerName != "" {
		if _, err := normalizeServerName(t.ServerName); err != nil {
			diags = append(diags, errorf(b.ServerName.Range(), "Invalid server_name",
				"%s. Write the DNS name the backends' certificates carry, such as \"api.internal\".", err))
		}
	}

	t.InsecureSkipVerify, moreDiags = decodeFlag(b.InsecureSkipVerify, false)
	diags = append(diags, moreDiags...)

	t.CAFile, moreDiags = decodeText("ca_file", b.CAFile, "")
	diags = append(diags, moreDiags...)
	if t.InsecureSkipVerify && written(b.CAFile) {
		return t, append(diags, errorf(b.InsecureSkipVerify.Range(), "Conflicting TLS verification",
			"insecure_skip_verify = true turns verification off, so ca_file at %s would never be used; remove one of them.", lineOf(b.CAFile.Range())))
	}
	if t.InsecureSkipVerify {
		diags = append(diags, warnf(b.InsecureSkipVerify.Range(), "Backend certificates not verified",
			"insecure_skip_verify = true: traffic to these backends is encrypted, but anyone on the path can impersonate them. Prefer ca_file with the CA that signed their certificates."))
	}
	if t.CAFile == "" {
		return t, diags
	}
	raw, d := readPEMFile(t.CAFile, b.CAFile.Range(), "ca_file", "CA certificates")
	if d != nil {
		return t, append(diags, d)
	}
	certs, err := x509ChainOf(raw)
	if err != nil {
		return t, append(diags, errorf(b.CAFile.Range(), "Invalid CA file",
			"%s: %v. ca_file must hold one or more PEM CA certificates (BEGIN CERTIFICATE).", t.CAFile, err))
	}
	t.RootCAs = x509.NewCertPool()
	for _, c := range certs {
		t.RootCAs.AddCert(c)
	}
	t.caPEM = raw
	return t, diags
}
