package config

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// HTTPSRedirect is what "redirect_https = true" makes of a plain
// listener: every request is answered 308 Permanent Redirect to
// https://HOST[:PORT]TARGET, HOST being the request's host without its
// port and TARGET its path and query as sent. Nothing is forwarded.
type HTTPSRedirect struct {
	// Port is "redirect_https_port" (1..65535), or 0 when it is not
	// written: then Listener names the TLS listener whose port is used.
	// 443 is left out of the Location.
	Port int

	// Listener names the one TLS listener of the file whose bound port
	// the redirect uses when Port is 0; "" when Port is set.
	Listener string

	// DeclRange is where redirect_https is written.
	DeclRange hcl.Range
}

// decodeRedirect decodes redirect_https and redirect_https_port of a
// listener; which TLS listener it points to is settled by checkRedirects.
func decodeRedirect(b *listenerBlock) (*HTTPSRedirect, hcl.Diagnostics) {
	on, set, diags := decodeValue[bool](b.RedirectHTTPS)
	if !set || !on {
		if written(b.RedirectHTTPSPort) && !diags.HasErrors() {
			diags = append(diags, errorf(b.RedirectHTTPSPort.Range(), "Attribute needs redirect_https",
				"redirect_https_port only applies with redirect_https = true; remove it, or add redirect_https = true."))
		}
		return nil, diags
	}
	r := &HTTPSRedirect{DeclRange: b.RedirectHTTPS.Range()}
	port, moreDiags := decodePort("redirect_https_port", b.RedirectHTTPSPort, "")
	diags = append(diags, moreDiags...)
	r.Port = port
	if b.TLS != nil {
		diags = append(diags, errorf(b.RedirectHTTPS.Range(), "Redirect on a TLS listener",
			"redirect_https sends plain HTTP clients to https; this listener already has a tls block at %s. Remove redirect_https here and set it on the plain listener.", lineOf(b.TLS.DeclRange)))
	}
	if len(b.Routes) > 0 {
		diags = append(diags, errorf(b.Routes[0].DeclRange, "Route on a redirecting listener",
			"A listener with redirect_https = true answers every request with a redirect, so its routes would never be used; remove them, or remove redirect_https."))
	}
	return r, diags
}

// checkRedirects settles which TLS listener each redirecting listener
// without redirect_https_port points to: the only one in the file. With
// none or several, redirect_https_port is required.
func checkRedirects(f *fileSchema, cfg *Config) hcl.Diagnostics {
	var tlsNames []string
	for _, l := range cfg.Listeners {
		if l.TLS != nil {
			tlsNames = append(tlsNames, l.Name)
		}
	}
	var diags hcl.Diagnostics
	for i, l := range cfg.Listeners {
		r := l.Redirect
		if r == nil || r.Port != 0 || written(f.Listeners[i].RedirectHTTPSPort) {
			continue
		}
		switch len(tlsNames) {
		case 1:
			r.Listener = tlsNames[0]
		case 0:
			diags = append(diags, errorf(r.DeclRange, "No TLS listener to redirect to",
				"redirect_https = true on listener %q, but no listener has a tls block; add one, or set redirect_https_port to the port clients should use for https.", l.Name))
		default:
			diags = append(diags, errorf(r.DeclRange, "Ambiguous redirect",
				"Several listeners terminate TLS (%s); set redirect_https_port to say which port the redirect points to.",
				strings.Join(quoteAll(tlsNames), ", ")))
		}
	}
	return diags
}
