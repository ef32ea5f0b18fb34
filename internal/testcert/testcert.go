// Package testcert makes throw-away certificate authorities and leaf
// certificates for tests (crypto/x509, ECDSA P-256): a test CA, server
// certificates it signs for DNS names and IP addresses, and their PEM
// files on disk. Nothing here is fit for production use; the keys live
// in memory and in the files a test asks for.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Validity is how long certificates made here are valid, starting one
// hour in the past (so a clock a little behind does not reject them).
const Validity = 24 * time.Hour

// CA is a test certificate authority. Its methods are safe for concurrent
// use.
type CA struct {
	// Cert is the CA certificate.
	Cert *x509.Certificate
	// CertPEM is Cert in PEM form, for a ca_file.
	CertPEM []byte
	key     *ecdsa.PrivateKey
}

// Pair is a certificate and its private key.
type Pair struct {
	// CertPEM is the certificate in PEM form (leaf only).
	CertPEM []byte
	// KeyPEM is the private key in PKCS#8 PEM form.
	KeyPEM []byte
	// TLS is the pair parsed for crypto/tls, Leaf set.
	TLS tls.Certificate
}

// NewCA returns a new self-signed CA called name.
func NewCA(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(Validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, CertPEM: pemBlock("CERTIFICATE", der), key: key}, nil
}

// Pool returns a fresh pool holding only the CA, for a client's RootCAs.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Issue returns a server certificate signed by ca for names: each one that
// parses as an IP address becomes an IP SAN, the others DNS SANs. The
// first name is also the subject's common name.
func (ca *CA) Issue(names ...string) (*Pair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(Validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if len(names) > 0 {
		tmpl.Subject.CommonName = names[0]
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	p := &Pair{CertPEM: pemBlock("CERTIFICATE", der), KeyPEM: pemBlock("PRIVATE KEY", keyDER)}
	p.TLS, err = tls.X509KeyPair(p.CertPEM, p.KeyPEM)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// WriteFiles writes the pair as dir/base.crt and dir/base.key (mode 0600)
// and returns their paths.
func (p *Pair) WriteFiles(dir, base string) (certFile, keyFile string, err error) {
	certFile = filepath.Join(dir, base+".crt")
	keyFile = filepath.Join(dir, base+".key")
	if err := os.WriteFile(certFile, p.CertPEM, 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyFile, p.KeyPEM, 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

// MustCA is NewCA for tests: it panics on error, which only a broken
// crypto/rand can cause.
func MustCA(name string) *CA {
	ca, err := NewCA(name)
	if err != nil {
		panic(fmt.Sprintf("testcert: %v", err))
	}
	return ca
}

// MustIssue is Issue for tests: it panics on error.
func (ca *CA) MustIssue(names ...string) *Pair {
	p, err := ca.Issue(names...)
	if err != nil {
		panic(fmt.Sprintf("testcert: %v", err))
	}
	return p
}

// serial is a random 128-bit serial number.
func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
