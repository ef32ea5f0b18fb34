# A complete, valid configuration that sets every attribute the schema
# knows. config_test.go decodes it and checks every value; keep the two in
# step. Durations are strings ("200ms", "10s", "1m30s"); sizes are bytes.

# The LB's own endpoints: /healthz, /readyz and /status, and how the LB
# itself shuts down. Leave the block out to run without an admin listener;
# SIGTERM then stops accepting at once and grace_period is 30s.
admin {
  address = "127.0.0.1:9901"

  # On SIGTERM /readyz answers 503 at once; the listeners keep serving for
  # the shutdown delay so the tier in front notices, then stop accepting,
  # and in-flight requests get grace_period to finish.
  grace_period = "45s"  # (default 30s)

  # How the load balancer in front probes /readyz. The shutdown delay is
  # interval x unhealthy_threshold + one interval of margin: 5s x 2 + 5s = 15s.
  # Instead of this block, shutdown_delay = "15s" gives the delay directly
  # (default 0s); write one or the other, not both.
  upstream_probe {
    interval            = "5s"  # required
    unhealthy_threshold = 2     # required, at least 1
  }
}

# A proxy listener. Requests that no route matches go to its pool.
listener "public" {
  address = "127.0.0.1:8080"
  pool    = "web"

  read_timeout          = "15s"     # whole request, headers and body (default 30s)
  write_timeout         = "20s"     # the response to the client (default 30s)
  idle_timeout          = "90s"     # client keep-alive idle (default 60s)
  max_request_body_size = 1048576   # bytes (default 10485760, 10 MiB)
  request_buffer_size   = 8192      # bodies up to this are read whole, larger ones streamed
                                    # (default 16384, 16 KiB; 1024..max_request_body_size)

  # Routes are tried in order; the first match wins.
  route {
    host        = "api.example.com"
    path_prefix = "/v1/"
    pool        = "api"
  }
  route {
    path_prefix = "/static/"
    pool        = "web"
  }
}

# A second listener using every default.
listener "internal" {
  address = ":8081"
  pool    = "api"
}

pool "web" {
  algorithm = "weighted_round_robin"  # round_robin (default), weighted_round_robin, least_conn, random, power_of_two

  response_timeout      = "5s"    # whole backend answer, body included (default none: a
                                  # streamed answer longer than this is cut)
  header_timeout        = "3s"    # until the response header, every try included
                                  # (default 30s, or response_timeout when only that is written)
  body_idle_timeout     = "2s"    # longest gap between two body reads (default 60s)
  connect_timeout       = "500ms" # dialing a backend (default 2s)
  idle_conn_timeout     = "4s"    # below the backends' own keep-alive timeout (default 10s)
  max_conns_per_backend = 256     # (default 1024)
  deregistration_delay  = "20s"   # a draining backend's requests are cancelled after this (default 300s; "0s" = at once)

  # With no HEALTHY backend: fail_open (default) routes across every
  # non-draining backend, fail_closed answers 503. Below panic_threshold
  # percent HEALTHY the pool routes across every non-draining backend
  # (default 50; 0 = off; must be 0 or absent with fail_closed).
  when_all_unhealthy = "fail_open"
  panic_threshold    = 30
  slow_start         = "30s"    # a newly HEALTHY backend ramps from 10% to its full share (default "0s" = off)
  silent_after       = "200ms"  # skip a backend whose oldest request waits this long unanswered
                                # (default "auto": 8 x the pool's p99, at least 25ms; "off" = never)

  health_check {
    type                = "http"          # http (default) or tcp
    path                = "/healthz"      # (default /readyz)
    host                = "web.internal"  # Host header of the probe (default: the backend address)
    port                = 8081            # probe port (default: the backend's own)
    reuse_connection    = false           # a new connection per probe (default true: one kept-alive)
    interval            = "200ms"         # (default 10s)
    timeout             = "100ms"         # shorter than interval (default 5s)
    healthy_threshold   = 1               # (default 2)
    unhealthy_threshold = 2               # (default 3)
    expected_status     = "200-204,301"   # codes and ranges (default "200")
  }

  # Failed requests are sent again, each time to another backend; once a
  # request may have been processed, only idempotent ones (or ones with an
  # Idempotency-Key header) are.
  retry {
    attempts        = 2           # extra tries after the first, 0..10 (default 1; 0 = no retry)
    per_try_timeout = "1s"        # until the header; at most header_timeout (default: header_timeout)
    on              = ["connect_failure", "reset", "timeout", "503"]  # also 502, 504, 5xx
                                  # (default ["connect_failure", "reset"])
    budget_percent  = 25          # retries: at most this percent of requests, plus 3/s (default 20)
  }

  # Passive ejection: backends failing real traffic get no new requests
  # for base_ejection x times ejected, capped at max_ejection, and until
  # their checks pass. On by default.
  passive {
    enabled              = true     # (default true)
    consecutive_failures = 3        # 5xx or transport errors in a row (default 5)
    consecutive_timeouts = 1        # per-try timeouts in a row (default 2)
    base_ejection        = "5s"     # (default 10s)
    max_ejection         = "60s"    # at least base_ejection (default 300s)
    max_ejected_percent  = 34       # of the pool's backends at once (default 50)
  }

  backend "127.0.0.1:9001" { weight = 3 }
  backend "127.0.0.1:9002" {}           # weight defaults to 1
}

# A pool using every default: round_robin and an HTTP check of /readyz
# every 10s.
pool "api" {
  backend "[::1]:9101" {}
  backend "localhost:9102" {}
}
