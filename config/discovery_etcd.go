package config

import (
	"crypto/tls"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// etcdDiscoveryBlock is the body of a `discovery "etcd"` block.
type etcdDiscoveryBlock struct {
	Endpoints    hcl.Expression `hcl:"endpoints,optional"`
	Prefix       hcl.Expression `hcl:"prefix,optional"`
	Username     hcl.Expression `hcl:"username,optional"`
	PasswordFile hcl.Expression `hcl:"password_file,optional"`
	DialTimeout  hcl.Expression `hcl:"dial_timeout,optional"`

	TLS *etcdTLSBlock `hcl:"tls,block"`
}

// etcdWhat names an etcd discovery block in diagnostics.
const etcdWhat = `discovery "etcd" block`

// decodeEtcdDiscovery decodes the body of a discovery "etcd" block
// declared at decl, reading its password and TLS files.
func decodeEtcdDiscovery(b *etcdDiscoveryBlock, decl hcl.Range) (*EtcdDiscovery, hcl.Diagnostics) {
	return decodeEtcdBlock(b, decl, etcdWhat, `"/lb/pools/web/"`)
}

// decodeEtcdBlock decodes an etcd connection block (a discovery "etcd"
// block, or the etcd block inside fleet) declared at decl: what names it
// in diagnostics, prefixExample is the prefix a missing one is shown
// with.
func decodeEtcdBlock(b *etcdDiscoveryBlock, decl hcl.Range, what, prefixExample string) (*EtcdDiscovery, hcl.Diagnostics) {
	var diags, moreDiags hcl.Diagnostics
	e := &EtcdDiscovery{}

	var schemes []string
	e.Endpoints, schemes, moreDiags = decodeEtcdEndpoints(b.Endpoints, decl, what)
	diags = append(diags, moreDiags...)

	e.Prefix, moreDiags = requireText(what, "prefix", prefixExample, b.Prefix, decl)
	diags = append(diags, moreDiags...)
	if e.Prefix != "" && !strings.HasSuffix(e.Prefix, "/") {
		diags = append(diags, warnf(b.Prefix.Range(), "Prefix does not end with a slash",
			"prefix = %q also matches the keys of every prefix that starts with it, such as %q; end it with \"/\" (%q) unless that is meant.",
			e.Prefix, e.Prefix+"-old/x", e.Prefix+"/"))
	}

	diags = append(diags, decodeEtcdAuth(b, e)...)
	e.DialTimeout, moreDiags = decodeDuration("dial_timeout", b.DialTimeout, DefaultEtcdDialTimeout)
	diags = append(diags, moreDiags...)

	e.TLS, e.tlsSum, moreDiags = decodeEtcdTLSBlock(b.TLS)
	diags = append(diags, moreDiags...)
	diags = append(diags, checkEndpointSchemes(b, e, schemes)...)
	return e, diags
}

// decodeEtcdEndpoints decodes "endpoints": at least one, each "host:port"
// or an http:// or https:// URL of one, none twice. It returns the
// endpoints as written and the scheme of each ("" for host:port); both
// are nil when the list is absent or not a list of strings.
func decodeEtcdEndpoints(expr hcl.Expression, decl hcl.Range, what string) (endpoints, schemes []string, diags hcl.Diagnostics) {
	list, set, diags := decodeValue[[]string](expr)
	switch {
	case diags.HasErrors():
		return nil, nil, diags
	case !set:
		return nil, nil, append(diags, missingAttr(decl, what, "endpoints", `["127.0.0.1:2379"]`))
	case len(list) == 0:
		return nil, nil, append(diags, errorf(expr.Range(), "No etcd endpoint",
			"endpoints lists no etcd member; list at least one, such as endpoints = [\"127.0.0.1:2379\"]."))
	}
	at := elemRanges(expr, len(list))
	seen := make(map[string]int, len(list))
	schemes = make([]string, len(list))
	for i, ep := range list {
		scheme, key, err := parseEtcdEndpoint(ep)
		if err != nil {
			diags = append(diags, errorf(at(i), "Invalid etcd endpoint",
				"%s. Write an etcd member as host:port, such as \"127.0.0.1:2379\", or as a URL with no path, such as \"https://etcd-1.internal:2379\".", err))
			continue
		}
		schemes[i] = scheme
		if first, dup := seen[key]; dup {
			diags = append(diags, errorf(at(i), "Duplicate etcd endpoint",
				"%q is the same member as %q, listed before it; list each member once.", ep, list[first]))
			continue
		}
		seen[key] = i
	}
	return list, schemes, diags
}

// parseEtcdEndpoint checks one endpoint: "host:port", or an http:// or
// https:// URL of one with no user, path, query or fragment. The port
// must be in 1..65535. It returns the scheme, lower-case ("" for
// host:port), and the member's key: host (lower-cased) and port.
func parseEtcdEndpoint(ep string) (scheme, key string, err error) {
	hostport := ep
	if strings.Contains(ep, "://") {
		u, err := url.Parse(ep)
		if err != nil {
			return "", "", fmt.Errorf("%q is not a URL", ep)
		}
		scheme = strings.ToLower(u.Scheme)
		if scheme != "http" && scheme != "https" {
			return "", "", fmt.Errorf("%q has scheme %q; etcd is reached over http:// or https://", ep, u.Scheme)
		}
		if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
			return "", "", fmt.Errorf("%q has a user, path, query or fragment", ep)
		}
		hostport = u.Host
	}
	hp, err := parseHostPort(hostport)
	switch {
	case err != nil:
		return "", "", fmt.Errorf("%q is not host:port", ep)
	case hp.host == "":
		return "", "", fmt.Errorf("%q has no host", ep)
	case hp.port == 0:
		return "", "", fmt.Errorf("%q has port 0, outside 1..65535", ep)
	}
	return scheme, hp.key(), nil
}

// endpointKeys returns the members' keys of valid endpoints, sorted, so
// two lists of the same members compare equal whatever their order,
// scheme or case.
func endpointKeys(endpoints []string) []string {
	keys := make([]string, 0, len(endpoints))
	for _, ep := range endpoints {
		if _, key, err := parseEtcdEndpoint(ep); err == nil {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// checkEndpointSchemes reports endpoints whose scheme contradicts the
// block: http:// and https:// mixed, or http:// beside a tls block (etcd's
// client dials an http:// endpoint in plaintext whatever its TLS
// settings). An https:// endpoint without a tls block gives e a TLS
// config that verifies etcd against the system's roots, as the client
// would do anyway, so e.TLS is nil exactly when the connection is plain.
func checkEndpointSchemes(b *etcdDiscoveryBlock, e *EtcdDiscovery, schemes []string) hcl.Diagnostics {
	if len(schemes) == 0 {
		return nil
	}
	at := elemRanges(b.Endpoints, len(schemes))
	var diags hcl.Diagnostics
	firstHTTPS, firstHTTP := -1, -1
	for i, s := range schemes {
		switch s {
		case "https":
			if firstHTTP >= 0 {
				diags = append(diags, mixedSchemes(at(i), e.Endpoints[i], e.Endpoints[firstHTTP]))
			} else if firstHTTPS < 0 {
				firstHTTPS = i
			}
		case "http":
			switch {
			case firstHTTPS >= 0:
				diags = append(diags, mixedSchemes(at(i), e.Endpoints[i], e.Endpoints[firstHTTPS]))
			case b.TLS != nil:
				diags = append(diags, errorf(at(i), "Plaintext endpoint with TLS",
					"%q starts with http://, which etcd's client dials in plaintext even with the tls block at %s: write it as %q, or remove the tls block.",
					e.Endpoints[i], lineOf(b.TLS.DeclRange), "https://"+e.Endpoints[i][len("http://"):]))
			case firstHTTP < 0:
				firstHTTP = i
			}
		}
	}
	if firstHTTPS >= 0 && b.TLS == nil && !diags.HasErrors() {
		e.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return diags
}

// mixedSchemes reports endpoint ep whose scheme differs from other's,
// listed before it: one etcd cluster is reached one way.
func mixedSchemes(at hcl.Range, ep, other string) *hcl.Diagnostic {
	return errorf(at, "Mixed etcd endpoint schemes",
		"%q and %q, listed before it, reach etcd one in plaintext and one over TLS; the members of one cluster are reached the same way. Write them all with https:// (and a tls block for a private CA), or all as host:port.",
		ep, other)
}

// maxPasswordFileSize bounds a password_file: a password is one short
// line.
const maxPasswordFileSize = 4096

// decodeEtcdAuth decodes username and password_file into e: both or
// neither. The password is read at load, relative to the configuration
// file's directory, with its trailing line break trimmed. Diagnostics
// never quote it.
func decodeEtcdAuth(b *etcdDiscoveryBlock, e *EtcdDiscovery) hcl.Diagnostics {
	var diags, moreDiags hcl.Diagnostics
	e.Username, moreDiags = decodeText("username", b.Username, "")
	diags = append(diags, moreDiags...)
	e.PasswordFile, moreDiags = decodeText("password_file", b.PasswordFile, "")
	diags = append(diags, moreDiags...)
	switch {
	case written(b.Username) && !written(b.PasswordFile):
		return append(diags, errorf(b.Username.Range(), "Username without password",
			"username needs password_file, the file holding that user's etcd password: add password_file = \"etcd.pass\" (a relative path is taken from the configuration file's directory), or remove username to connect without authentication."))
	case written(b.PasswordFile) && !written(b.Username):
		return append(diags, errorf(b.PasswordFile.Range(), "Password without username",
			"password_file needs username, the etcd user whose password it holds: add username = \"lb\", or remove password_file to connect without authentication."))
	case e.PasswordFile == "":
		return diags
	}
	full := besideConfig(e.PasswordFile, b.PasswordFile.Range())
	raw, err := readSmallRegularFile(full, maxPasswordFileSize)
	if err != nil {
		return append(diags, errorf(b.PasswordFile.Range(), "Cannot read password file",
			"%v. password_file must name a readable regular file (at most %d bytes) holding the etcd password; a relative path is taken from the configuration file's directory.",
			err, maxPasswordFileSize))
	}
	e.Password = Secret(strings.TrimRight(string(raw), "\r\n"))
	if e.Password == "" {
		return append(diags, errorf(b.PasswordFile.Range(), "Empty password file",
			"%s holds no password. Write the etcd password of user %q into it, or remove username and password_file to connect without authentication.",
			full, e.Username))
	}
	return diags
}
