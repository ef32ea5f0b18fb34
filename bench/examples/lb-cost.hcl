# lb in front of three backends, for `go run ./bench/cost` (CPU per
# request against HAProxy and NGINX; see bench/README.md). HAProxy's
# haproxy-cost.cfg and NGINX's nginx-cost.conf next to it are set up the
# same way. The tool starts the backends and this lb on free ports and
# replaces every 127.0.0.1:PORT below: 8081 is the listener, 9901 the
# admin listener, 9001..9003 the backends b1..b3. Everything not written
# is lb's default: the point is what lb costs as shipped.
#
# It runs as is, too, in front of backends on 9001..9003:
#   go build -o /tmp/lb ./cmd/lb
#   go run ./bench -scenario none -rate 8000 -backend-ports 9001,9002,9003 \
#     -target-cmd "/tmp/lb -config bench/examples/lb-cost.hcl" \
#     -target-addr 127.0.0.1:8081 -admin-addr 127.0.0.1:9901
#
# The tool runs it as `GOMAXPROCS=1 lb -config FILE -log-level warn`:
# one core, warnings and errors only. lb writes no access log here;
# lb-cost-accesslog.hcl is the same with one (-targets lb,lb-accesslog).

admin {
  address = "127.0.0.1:9901"
  # So that -cpuprofile can fetch a CPU profile of the last round
  # (/debug/pprof/profile); it costs nothing until a profile is asked for.
  pprof = true
}

listener "bench" {
  address = "127.0.0.1:8081"
  pool    = "web"
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
