# Backends from service discovery: DNS (SRV, or A and AAAA) and etcd.
#
#   go run ./cmd/lb validate -config examples/discovery.hcl
#
# A discovered backend is a backend like any other: it starts INITIAL and
# gets no request before its first check passes, and it drains (pool's
# deregistration_delay) when it leaves the registry. A pool may mix backend
# blocks and discovery blocks, and needs at least one of either.

admin {
  address = "127.0.0.1:9901"
}

listener "public" {
  address = "127.0.0.1:8080"
  pool    = "web"

  route {
    path_prefix = "/api/"
    pool        = "api"
  }
}

# Backends from DNS SRV records: each record gives a backend's host, port
# and weight (a weight of 0 counts as 1). A host in a record is resolved
# (A and AAAA) to the addresses that become backends.
pool "web" {
  health_check {
    path     = "/readyz"
    interval = "2s"
    timeout  = "1s"
  }

  discovery "dns" {
    name     = "_http._tcp.web.service.consul"  # type defaults to "srv": name starts with "_"
    resolver = "127.0.0.1:8600"                 # Consul's DNS; default: /etc/resolv.conf
    # refresh = "5s"      # default: each answer's TTL, clamped to 1s..5m
    # timeout = "2s"      # one lookup
  }

  # A host name instead: every A and AAAA address is a backend on port.
  discovery "dns" {
    name = "web-legacy.internal"
    type = "a"      # the default for a name without a leading "_"
    port = 8080     # required: A and AAAA records carry no port
  }

  # Static backends may stay beside discovered ones; the same address
  # from both is one backend.
  backend "127.0.0.1:9001" {}
}

# Backends from etcd: one key per backend under prefix, whose value is
# {"address":"10.0.0.5:8080","weight":2} (weight optional, default 1).
# `lb register` puts such a key under a lease for a backend.
pool "api" {
  deregistration_delay = "30s"

  discovery "etcd" {
    endpoints = ["127.0.0.1:2379"]   # host:port, or http(s)://host:port
    prefix    = "/lb/pools/api/"     # end it with "/": "/lb/pools/api" would also match "/lb/pools/api2/..."
    # dial_timeout = "5s"

    # Authentication and TLS, files read at load and relative to this file:
    # username      = "lb"
    # password_file = "etcd.pass"     # the password, one line
    # tls {
    #   ca_file   = "etcd-ca.pem"     # default: the system's roots
    #   cert_file = "lb-client.crt"   # a client certificate, with its key
    #   key_file  = "lb-client.key"
    # }
  }
}
