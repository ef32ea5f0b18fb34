# Access log and request IDs:
#   mkdir -p /tmp/lb-logs
#   go run ./cmd/lb demo -config examples/lb-accesslog.hcl
#   curl -si http://127.0.0.1:8082/ | grep -i x-request-id
#   tail -f /tmp/lb-logs/access.log
# Rotate with logrotate's default (create) mode: move the file away, then
#   kill -USR1 $(pgrep -f 'lb.*lb-accesslog.hcl')
# and lines go to a new /tmp/lb-logs/access.log. See "Access log" and
# "Request ID" in README.md.

admin {
  address = "127.0.0.1:9903"
}

listener "public" {
  address = "127.0.0.1:8082"
  pool    = "web"

  # The X-Request-Id of a peer listed here is kept (and logged); any other
  # client's is replaced by a generated one.
  trusted_proxies = ["127.0.0.1/32"]

  access_log {
    # "stdout" (the default), "stderr", or a file (relative paths are
    # relative to this file); its directory must exist.
    output = "/tmp/lb-logs/access.log"
    # "json": every field, one object per line; "combined": the
    # Apache/NGINX layout log tools read.
    format = "json"
    # Write one 2xx line in ten; errors and other statuses always.
    sample_2xx = 0.1
    # Lines that may wait for the disk; past that they are dropped and
    # counted (/status, /metrics), never waited for.
    buffer = 4096
  }
}

listener "internal" {
  address = "127.0.0.1:8083"
  pool    = "web"

  # Every request, combined layout, on stdout (the LB's own log is on
  # stderr).
  access_log {
    format = "combined"
  }
}

pool "web" {
  backend "127.0.0.1:9001" {}
  backend "127.0.0.1:9002" {}
}
