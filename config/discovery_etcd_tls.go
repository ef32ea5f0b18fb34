package config

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"

	"github.com/hashicorp/hcl/v2"
)

// etcdTLSBlock is a tls block inside a discovery "etcd" block.
type etcdTLSBlock struct {
	CAFile   hcl.Expression `hcl:"ca_file,optional"`
	CertFile hcl.Expression `hcl:"cert_file,optional"`
	KeyFile  hcl.Expression `hcl:"key_file,optional"`

	DeclRange hcl.Range `hcl:",def_range"`
}

// decodeEtcdTLSBlock decodes an etcd block's tls block into a client TLS
// config, reading its files at load (relative paths from the
// configuration file's directory): TLS 1.2 at least, RootCAs from
// ca_file (nil: the system's roots), and the client certificate of
// cert_file and key_file, which go together. sum is a digest of the
// files' contents, so a file rewritten in place counts as a change. b is
// nil when there is no tls block, which gives nil.
func decodeEtcdTLSBlock(b *etcdTLSBlock) (cfg *tls.Config, sum [sha256.Size]byte, diags hcl.Diagnostics) {
	if b == nil {
		return nil, sum, nil
	}
	cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	var moreDiags hcl.Diagnostics
	caFile, moreDiags := decodeText("ca_file", b.CAFile, "")
	diags = append(diags, moreDiags...)
	certFile, moreDiags := decodeText("cert_file", b.CertFile, "")
	diags = append(diags, moreDiags...)
	keyFile, moreDiags := decodeText("key_file", b.KeyFile, "")
	diags = append(diags, moreDiags...)

	var caPEM, certPEM, keyPEM []byte
	if caFile != "" {
		raw, d := readPEMFile(caFile, b.CAFile.Range(), "ca_file", "CA certificates")
		if d != nil {
			diags = append(diags, d)
		} else if certs, err := x509ChainOf(raw); err != nil {
			diags = append(diags, errorf(b.CAFile.Range(), "Invalid CA file",
				"%s: %v. ca_file must hold one or more PEM CA certificates (BEGIN CERTIFICATE), those etcd's certificate chains to.", caFile, err))
		} else {
			cfg.RootCAs = x509.NewCertPool()
			for _, c := range certs {
				cfg.RootCAs.AddCert(c)
			}
			caPEM = raw
		}
	}

	switch {
	case written(b.CertFile) && !written(b.KeyFile):
		diags = append(diags, errorf(b.CertFile.Range(), "Certificate without key",
			"cert_file needs key_file, the PEM private key of that client certificate: add key_file = \"client.key\", or remove cert_file to connect without a client certificate."))
	case written(b.KeyFile) && !written(b.CertFile):
		diags = append(diags, errorf(b.KeyFile.Range(), "Key without certificate",
			"key_file needs cert_file, the PEM client certificate it belongs to: add cert_file = \"client.crt\", or remove key_file to connect without a client certificate."))
	case certFile != "" && keyFile != "":
		var pair *tls.Certificate
		pair, certPEM, keyPEM, moreDiags = readKeyPair(certFile, keyFile, b.CertFile.Range(), b.KeyFile.Range())
		diags = append(diags, moreDiags...)
		if pair != nil {
			cfg.Certificates = []tls.Certificate{*pair}
		}
	}
	return cfg, contentSum(caPEM, certPEM, keyPEM), diags
}

// contentSum digests files' contents, each with its length, so that
// moving bytes from one file to the next changes the sum.
func contentSum(files ...[]byte) [sha256.Size]byte {
	h := sha256.New()
	for _, f := range files {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write(f)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}
