# WebSockets through the load balancer:
#   go run ./cmd/lb demo -config examples/lb-websocket.hcl
#   go run ./examples/wsecho -url ws://127.0.0.1:8081/ws hello world
# The demo backends echo WebSockets on /ws. Any request with
# "Connection: Upgrade" and an "Upgrade" header (h2c excepted) is passed
# through to one backend of its pool and spliced to it; see the
# "WebSockets" section of README.md.

admin {
  address = "127.0.0.1:9902"

  # On SIGTERM, open WebSockets may go on for grace_period, then the LB
  # closes them (one log line each).
  shutdown_delay = "0s"
  grace_period   = "10s"
}

listener "chat" {
  address = "127.0.0.1:8081"
  pool    = "chat"

  # A WebSocket with no byte either way for idle_timeout is closed, as on
  # an AWS ALB: keep the application's ping interval below it.
  idle_timeout = "60s"
}

pool "chat" {
  # Sockets live long: least_conn spreads them by how many each backend
  # holds (an open socket counts as in flight until it closes).
  algorithm = "least_conn"

  # The time the backend has to answer the handshake (101): the wait for a
  # response header, as for any request.
  header_timeout = "10s"

  # A draining backend keeps its open sockets this long, then the LB
  # closes them ("websocket closed: deregistration delay expired").
  # New sockets go to the other backends at once.
  deregistration_delay = "30s"

  health_check {
    path     = "/readyz"
    interval = "1s"
    timeout  = "500ms"
  }

  backend "127.0.0.1:9021" {}
  backend "127.0.0.1:9022" {}
}
