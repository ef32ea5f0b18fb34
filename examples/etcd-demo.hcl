# The service discovery walk-through of the README: one pool whose
# backends come only from etcd, registered there by `lb register`.
#
#   lb -config examples/etcd-demo.hcl
#
# with an etcd on 127.0.0.1:2379 (see README, "Service discovery").

admin {
  address = "127.0.0.1:9901"
}

listener "public" {
  address = "127.0.0.1:8080"
  pool    = "web"
}

pool "web" {
  deregistration_delay = "30s"

  health_check {
    path     = "/readyz"
    interval = "1s"
    timeout  = "500ms"
  }

  # One key per backend under the prefix, value {"address":"IP:port","weight":N};
  # `lb register` keeps such a key under a lease while its backend is ready.
  discovery "etcd" {
    endpoints = ["127.0.0.1:2379"]
    prefix    = "/lb/pools/web/"
  }
}
