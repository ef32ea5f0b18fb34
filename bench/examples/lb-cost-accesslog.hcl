# lb-cost.hcl with a JSON access log: what the access log costs, for
# `go run ./bench/cost -targets lb,lb-accesslog` (the two alternate within
# each round; the summary gives the ratio). Same placeholders as
# lb-cost.hcl; the log goes to access.log beside the rendered file (the
# tool's temporary directory).

admin {
  address = "127.0.0.1:9901"
  # So that -cpuprofile can fetch a CPU profile of the last round
  # (/debug/pprof/profile); it costs nothing until a profile is asked for.
  pprof = true
}

listener "bench" {
  address = "127.0.0.1:8081"
  pool    = "web"

  access_log {
    output = "access.log"
    format = "json"
  }
}

pool "web" {
  algorithm = "round_robin"

  # lb keeps connections to the backends alive by default: one pool of
  # them per backend, any request takes any idle one (idle_conn_timeout
  # 10s, max_conns_per_backend 1024).

  health_check {
    path     = "/readyz"
    interval = "1s"
    # The default 5s must be shorter than the interval; 500ms as in the
    # failover bench. healthy_threshold 2, unhealthy_threshold 3: defaults.
    timeout = "500ms"
  }

  backend "127.0.0.1:9001" {}
  backend "127.0.0.1:9002" {}
  backend "127.0.0.1:9003" {}
}
