# A working configuration for the quick start:
#   go run ./cmd/lb demo
# starts a demo backend on every loopback address below, then this load
# balancer in front of them. Every attribute is listed in README.md with
# its default; the values here are tuned for a demo (fast checks).

# The LB's own endpoints: /healthz (liveness), /readyz (readiness), /status.
# Keep it on loopback unless something outside the host must probe it.
# POST /pools/{pool}/backends/{address}/drain (and /undrain) and POST /reload
# answer here too.
admin {
  address = "127.0.0.1:9901"

  # On SIGTERM: /readyz turns 503 at once, listeners keep serving for
  # shutdown_delay, then in-flight requests get grace_period to finish.
  # Describe the prober in front instead of guessing the delay:
  #   upstream_probe { interval = "10s"  unhealthy_threshold = 3 }   # -> 40s
  shutdown_delay = "0s"   # the demo stops at once; use upstream_probe in production
  grace_period   = "10s"
}

# One proxy listener. Requests go to the first route that matches, else to
# the listener's default pool.
listener "public" {
  address = "127.0.0.1:8080"
  pool    = "web"

  read_timeout          = "30s"     # whole request from the client
  write_timeout         = "30s"     # whole answer to the client
  idle_timeout          = "60s"     # client keep-alive
  max_request_body_size = 10485760  # bytes; larger bodies get 413
  # request_buffer_size = 16384     # bytes (the default): bodies up to this are read
                                    # whole before forwarding, so a retry can replay them;
                                    # larger ones are streamed to the backend

  route {
    path_prefix = "/api/"
    pool        = "api"
  }
}

pool "web" {
  algorithm = "round_robin"

  # response_timeout bounds the whole answer, body included (default: no
  # limit). Written alone it also sets header_timeout, the wait for the
  # response header, every retry included (default 30s); body_idle_timeout
  # (default 60s) bounds each gap in the body. A streamed answer (Server-Sent
  # Events, a large download) longer than response_timeout is cut: for a
  # streaming pool leave it out and write, if the defaults do not suit,
  #   header_timeout    = "30s"  # no response header by then: 504
  #   body_idle_timeout = "60s"  # no byte of the body for this long: cut
  response_timeout  = "30s"
  connect_timeout   = "2s"
  idle_conn_timeout = "10s"  # keep below the backends' own keep-alive timeout

  # A draining backend's requests may run this long before they are
  # cancelled (default 300s, as on an AWS ALB).
  deregistration_delay = "30s"

  health_check {
    type                = "http"
    path                = "/readyz"
    interval            = "1s"     # production default is 10s
    timeout             = "500ms"  # must be shorter than interval
    healthy_threshold   = 2
    unhealthy_threshold = 2
    expected_status     = "200"
  }

  backend "127.0.0.1:9001" {}
  backend "127.0.0.1:9002" {}
  backend "127.0.0.1:9003" {}
}

pool "api" {
  algorithm = "least_conn"

  health_check {
    interval = "1s"
    timeout  = "500ms"
  }

  backend "127.0.0.1:9011" { weight = 2 }
  backend "127.0.0.1:9012" { weight = 1 }
}
