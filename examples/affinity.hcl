# Affinity: consistent hashing with bounded loads, and sticky sessions.
#
#   go run ./cmd/lb demo -config examples/affinity.hcl
#
# starts a demo backend on each address below and the LB on 127.0.0.1:8080.
#   curl -s -H 'X-User: alice' localhost:8080/cache/x -D- | grep X-Backend   # always the same backend
#   curl -s -c jar -b jar localhost:8080/ -D- | grep -i 'x-backend\|set-cookie'   # then stays put

listener "public" {
  address = "127.0.0.1:8080"
  pool    = "app"

  route {
    path_prefix = "/cache/"
    pool        = "cache"
  }
}

# A cache tier: each user's requests go to one backend, so its cache stays
# warm. When a backend leaves (drained, unhealthy, removed) only its users
# move, and they come back when it returns. No backend takes more than
# load_factor times its fair share of the requests in flight: a hot user
# spills to the next backend on the ring instead of overloading its own.
pool "cache" {
  algorithm = "consistent_hash"
  hash {
    key         = "header:X-User"   # or "client_ip" (the default), "path",
                                    # "cookie:NAME", "query:NAME"; a request without
                                    # it goes round robin
    load_factor = 1.25              # the default
  }

  health_check {
    interval = "2s"
    timeout  = "1s"
  }

  backend "127.0.0.1:9201" {}
  backend "127.0.0.1:9202" {}
  backend "127.0.0.1:9203" {}
}

# An application with per-user state in memory: the first answer sets a
# cookie naming its backend (opaque and signed, never the address); later
# requests go back to it while it is HEALTHY, and are re-picked (with a new
# cookie) when it drains, fails or is removed.
pool "app" {
  algorithm = "least_conn"          # picks the first backend of a session
  sticky {
    cookie = "lb_app"               # the default is "lb_" + the pool's name
    ttl    = "1h"                   # Max-Age; "0s" (the default) makes a session cookie
    # key_file = "sticky.key"       # share one secret between LB instances and across
                                    # restarts; without it each process draws its own
  }

  health_check {
    interval = "2s"
    timeout  = "1s"
  }

  backend "127.0.0.1:9211" {}
  backend "127.0.0.1:9212" {}
}
