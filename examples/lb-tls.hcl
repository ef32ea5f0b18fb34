# TLS termination with SNI, an HTTP -> HTTPS redirect and TLS to backends.
#
#   go run ./cmd/lb validate -config examples/lb-tls.hcl
#   go run ./cmd/lb demo -config examples/lb-tls.hcl   # with demo backends
#   curl --cacert examples/tls/demo-ca.crt --resolve api.localhost:8443:127.0.0.1 https://api.localhost:8443/
#   curl -si http://127.0.0.1:8080/                    # 308 to https
#
# lb demo serves pool "api"'s backend over TLS with the listener
# certificate its tls block accepts (api.crt: api.localhost, demo CA).
#
# The certificates under examples/tls/ are DEMO ONLY: their keys are public.
# Relative paths are taken from this file's directory. After replacing a
# certificate or key file, send SIGHUP (or POST /reload): new connections
# get the new certificate, open ones keep theirs, and a file that does not
# load changes nothing.

admin {
  address = "127.0.0.1:9901"
}

# Clients speak TLS here. The certificate is picked by the SNI name the
# client sends; a client that sends none (or an unknown name) gets the
# default.
listener "https" {
  address = "127.0.0.1:8443"
  pool    = "web"

  route {
    host = "api.localhost"
    pool = "api"
  }

  tls {
    min_version = "1.2" # the default; "1.3" refuses TLS 1.2 clients

    certificate "www" {
      cert_file = "tls/www.crt" # SNI names: the certificate's DNS SANs
      key_file  = "tls/www.key"
      default   = true # without it, the first certificate is the default
    }
    certificate "api" {
      cert_file    = "tls/api.crt"
      key_file     = "tls/api.key"
      server_names = ["api.localhost"] # optional: overrides the SANs
    }
  }
}

# Plain HTTP: every request gets 308 to https://<host>:8443<same path>.
# With one TLS listener its port is used; with several, set
# redirect_https_port.
listener "http" {
  address        = "127.0.0.1:8080"
  redirect_https = true
}

pool "web" {
  health_check {
    path     = "/readyz"
    interval = "2s"
    timeout  = "1s"
  }
  backend "127.0.0.1:9001" {}
  backend "127.0.0.1:9002" {}
}

# These backends speak TLS. Traffic and health checks verify their
# certificates against the CA in ca_file, for the name server_name.
pool "api" {
  tls {
    ca_file     = "tls/demo-ca.crt"
    server_name = "api.localhost"
  }
  health_check {
    type     = "http"
    path     = "/readyz"
    interval = "2s"
    timeout  = "1s"
  }
  backend "127.0.0.1:9443" {}
}
