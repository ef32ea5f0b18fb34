# The walk-through of the README, "Sharing health checks across
# instances": one lb instance of a fleet of three that share their active
# health checks through one etcd. The other two are this file with the
# member name and the two ports changed:
#
#   lb -config examples/fleet-demo.hcl
#
# with an etcd on 127.0.0.1:2379 and the demo backends on 9001-9003.

admin {
  address = "127.0.0.1:9901"
}

listener "public" {
  address = "127.0.0.1:8080"
  pool    = "web"
}

pool "web" {
  health_check {
    path                = "/readyz"
    interval            = "1s"
    timeout             = "500ms"
    unhealthy_threshold = 2
  }

  backend "127.0.0.1:9001" {}
  backend "127.0.0.1:9002" {}
  backend "127.0.0.1:9003" {}
}

# Each backend is probed by `replicas` of the live members (rendezvous
# hashing); every member applies their published verdicts. Without etcd
# a member probes every backend itself.
fleet {
  member   = "lb-1" # default: the host name
  replicas = 2
  ttl      = "5s"

  etcd {
    endpoints = ["127.0.0.1:2379"]
    prefix    = "/lb/fleet/demo/"
  }
}
