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

  # header_timeout: no response header within this (every retry included)
  # is a 504. body_idle_timeout: a body that goes this long without a byte
  # is cut. Answers are streamed, so a Server-Sent Events stream or a large
  # download lives as long as its backend keeps sending. response_timeout
  # (default: none) would bound the whole answer, body included, and cut
  # any stream longer than it: leave it out for pools that stream.
  header_timeout    = "30s"
  body_idle_timeout = "60s"
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
    reuse_connection    = true     # one kept-alive probe connection per backend (false: one per probe)
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
