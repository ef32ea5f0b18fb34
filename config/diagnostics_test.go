package config

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestParseDiagnostics feeds one mistake per input and expects exactly
// one error diagnostic, with its summary, a detail, and the line and
// column where the mistake is.
func TestParseDiagnostics(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		summary   string // substring of the summary
		detail    string // substring of the detail; optional
		line, col int
	}{
		{
			name: "unknown attribute",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  algo = "random"
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Unsupported argument", detail: "Remove it", line: 6, col: 3,
		},
		{
			name: "misspelt attribute gets a suggestion",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    intervall = "5s"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Unsupported argument", detail: `Did you mean "interval"?`, line: 7, col: 5,
		},
		{
			name: "unknown block",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
frontend "f" {}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Unsupported block type", line: 5, col: 1,
		},
		{
			name: "duration without a unit",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    interval = "10"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid duration", detail: `interval = "10"`, line: 7, col: 16,
		},
		{
			name: "negative duration",
			src: `listener "l" {
  address      = "127.0.0.1:8080"
  pool         = "p"
  idle_timeout = "-1s"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid duration", detail: "longer than zero", line: 4, col: 18,
		},
		{
			name: "zero pool duration",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  connect_timeout = "0s"
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid duration", line: 6, col: 21,
		},
		{
			name: "timeout equal to interval points at timeout",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    interval = "1s"
    timeout  = "1s"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Timeout not shorter than interval", detail: "lower timeout", line: 8, col: 16,
		},
		{
			name: "default timeout longer than a short interval points at interval",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    interval = "200ms"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Timeout not shorter than interval", detail: `timeout = "100ms"`, line: 7, col: 16,
		},
		{
			name: "healthy threshold zero",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    healthy_threshold = 0
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Value out of range", detail: "healthy_threshold must be at least 1", line: 7, col: 25,
		},
		{
			name: "unhealthy threshold negative",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    unhealthy_threshold = -1
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Value out of range", detail: "unhealthy_threshold must be at least 1", line: 7, col: 27,
		},
		{
			name: "bad expected_status",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    expected_status = "2xx"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid expected_status", detail: `"2xx" is not a status code`, line: 7, col: 23,
		},
		{
			name: "expected_status out of range",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    expected_status = "200-600"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid expected_status", detail: "outside 100..599", line: 7, col: 23,
		},
		{
			name: "backend without a port",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "10.0.0.1" {}
}
`,
			summary: "Invalid backend address", detail: "missing port", line: 6, col: 11,
		},
		{
			name: "backend with a scheme",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "http://10.0.0.1:80" {}
}
`,
			summary: "Invalid backend address", detail: "host:port", line: 6, col: 11,
		},
		{
			name: "backend with a named port",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "10.0.0.1:http" {}
}
`,
			summary: "Invalid backend address", detail: "not a number", line: 6, col: 11,
		},
		{
			name: "backend port out of range",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "10.0.0.1:70000" {}
}
`,
			summary: "Invalid backend address", detail: "outside 0..65535", line: 6, col: 11,
		},
		{
			name: "backend port zero",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "10.0.0.1:0" {}
}
`,
			summary: "Invalid backend address", detail: "outside 1..65535", line: 6, col: 11,
		},
		{
			name: "backend without a host",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend ":9001" {}
}
`,
			summary: "Invalid backend address", detail: "no host", line: 6, col: 11,
		},
		{
			name: "same backend twice points at the second",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
  backend "127.0.0.1:9002" {}
  backend "127.0.0.1:9001" { weight = 2 }
}
`,
			summary: "Duplicate backend", detail: "already declared at line 6", line: 8, col: 11,
		},
		{
			name: "same backend spelt differently",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "Example.com:80" {}
  backend "example.com:080" {}
}
`,
			summary: "Duplicate backend", detail: `same address as backend "Example.com:80" at line 6`, line: 7, col: 11,
		},
		{
			name: "two pools with one name",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
pool "p" {
  backend "127.0.0.1:9002" {}
}
`,
			summary: "Duplicate pool name", detail: "already declared at line 5", line: 8, col: 6,
		},
		{
			name: "two listeners with one name",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
listener "l" {
  address = "127.0.0.1:8081"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Duplicate listener name", detail: "already declared at line 1", line: 5, col: 10,
		},
		{
			name: "listener names an undeclared pool",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "web"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Unknown pool", detail: `declared pools: "p"`, line: 3, col: 13,
		},
		{
			name: "route names an undeclared pool",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
  route {
    path_prefix = "/api/"
    pool        = "api"
  }
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Unknown pool", detail: `pool "api"`, line: 6, col: 19,
		},
		{
			name: "unknown algorithm lists the valid ones",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  algorithm = "fastest"
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Unknown algorithm", detail: "round_robin, weighted_round_robin, least_conn, random, power_of_two", line: 6, col: 15,
		},
		{
			name: "admin and listener on one address",
			src: `admin {
  address = "127.0.0.1:8080"
}
listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Address clash", detail: "admin block at line 2", line: 5, col: 13,
		},
		{
			name: "listener before admin, clash points at admin",
			src: `listener "l" {
  address = "127.0.0.1:9901"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
admin {
  address = "127.0.0.1:9901"
}
`,
			summary: "Address clash", detail: `listener "l" at line 2`, line: 9, col: 13,
		},
		{
			name: "two listeners on one address",
			src: `listener "a" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
listener "b" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Address clash", line: 6, col: 13,
		},
		{
			name: "wildcard listener clashes with a specific host on its port",
			src: `listener "a" {
  address = ":8080"
  pool    = "p"
}
listener "b" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Address clash", line: 6, col: 13,
		},
		{
			name: "invalid listener address",
			src: `listener "l" {
  address = "localhost"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid address", detail: "missing port", line: 2, col: 13,
		},
		{
			name: "admin without address",
			src: `admin {}
listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Missing required argument", detail: "add address =", line: 1, col: 1,
		},
		{
			name: "deregistration_delay that is not a duration",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  deregistration_delay = "5 minutes"
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid duration", detail: `deregistration_delay = "5 minutes" is not a duration`, line: 6, col: 26,
		},
		{
			name: "negative deregistration_delay",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  deregistration_delay = "-1s"
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid duration", detail: `deregistration_delay must not be negative; it is "-1s". Write "0s" to cancel`, line: 6, col: 26,
		},
		{
			name: "negative shutdown_delay",
			src: `admin {
  address        = "127.0.0.1:9901"
  shutdown_delay = "-1s"
}
listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid duration", detail: "shutdown_delay must not be negative", line: 3, col: 20,
		},
		{
			name: "zero grace_period",
			src: `admin {
  address      = "127.0.0.1:9901"
  grace_period = "0s"
}
listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid duration", detail: "grace_period must be longer than zero", line: 3, col: 18,
		},
		{
			name: "upstream_probe without interval",
			src: `admin {
  address = "127.0.0.1:9901"
  upstream_probe {
    unhealthy_threshold = 3
  }
}
listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Missing required argument", detail: "upstream_probe block has no interval: add interval = \"10s\"", line: 3, col: 3,
		},
		{
			name: "upstream_probe without unhealthy_threshold",
			src: `admin {
  address = "127.0.0.1:9901"
  upstream_probe {
    interval = "10s"
  }
}
listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Missing required argument", detail: "upstream_probe block has no unhealthy_threshold", line: 3, col: 3,
		},
		{
			name: "upstream_probe threshold zero",
			src: `admin {
  address = "127.0.0.1:9901"
  upstream_probe {
    interval            = "10s"
    unhealthy_threshold = 0
  }
}
listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Value out of range", detail: "unhealthy_threshold must be at least 1; it is 0", line: 5, col: 27,
		},
		{
			name: "upstream_probe zero interval",
			src: `admin {
  address = "127.0.0.1:9901"
  upstream_probe {
    interval            = "0s"
    unhealthy_threshold = 3
  }
}
listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid duration", detail: "interval must be longer than zero", line: 4, col: 27,
		},
		{
			name: "upstream_probe delay overflows",
			src: `admin {
  address = "127.0.0.1:9901"
  upstream_probe {
    interval            = "2562047h"
    unhealthy_threshold = 3
  }
}
listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Value out of range", detail: "too long a shutdown delay", line: 5, col: 27,
		},
		{
			name: "two upstream_probe blocks",
			src: `admin {
  address = "127.0.0.1:9901"
  upstream_probe {
    interval            = "10s"
    unhealthy_threshold = 3
  }
  upstream_probe {
    interval            = "5s"
    unhealthy_threshold = 2
  }
}
listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Duplicate upstream_probe block", detail: "", line: 7, col: 3,
		},
		{
			name: "shutdown_delay and upstream_probe both set",
			src: `admin {
  address        = "127.0.0.1:9901"
  shutdown_delay = "5s"
  upstream_probe {
    interval            = "10s"
    unhealthy_threshold = 3
  }
}
listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Conflicting shutdown delay", detail: "upstream_probe block at line 4 both set how long the listeners keep serving after SIGTERM; pick one", line: 3, col: 20,
		},
		{
			name: "shutdown_delay after upstream_probe still points at shutdown_delay",
			src: `admin {
  address = "127.0.0.1:9901"
  upstream_probe {
    interval            = "10s"
    unhealthy_threshold = 3
  }
  shutdown_delay = "0s"
}
listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Conflicting shutdown delay", detail: "pick one", line: 7, col: 20,
		},
		{
			name: "listener without pool",
			src: `listener "l" {
  address = "127.0.0.1:8080"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Missing required argument", detail: `listener "l" has no pool`, line: 1, col: 1,
		},
		{
			name: "listener without address",
			src: `pool "p" {
  backend "127.0.0.1:9001" {}
}
listener "l" {
  pool = "p"
}
`,
			summary: "Missing required argument", detail: "has no address", line: 4, col: 1,
		},
		{
			name: "route without pool",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
  route {
    host = "a.example.com"
  }
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Missing required argument", detail: "route has no pool", line: 4, col: 3,
		},
		{
			name: "route with neither host nor path_prefix",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
  route {
    pool = "p"
  }
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Route matches nothing", detail: "host, path_prefix or both", line: 4, col: 3,
		},
		{
			name: "path_prefix without a slash",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
  route {
    path_prefix = "api"
    pool        = "p"
  }
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid path_prefix", line: 5, col: 19,
		},
		{
			name: "empty route host",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
  route {
    host = ""
    pool = "p"
  }
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Empty value", line: 5, col: 12,
		},
		{
			name: "unknown health check type",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    type = "udp"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Unknown health check type", detail: "http, tcp, grpc", line: 7, col: 12,
		},
		{
			name: "path on a grpc check",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    type         = "grpc"
    grpc_service = "mypackage.MyService"
    path         = "/readyz"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Attribute not used by this check type", detail: "path only applies to type = \"http\"", line: 9, col: 20,
		},
		{
			name: "expected_status on a grpc check",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    type            = "grpc"
    expected_status = "200"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Attribute not used by this check type", detail: "expected_status only applies to type = \"http\"", line: 8, col: 23,
		},
		{
			name: "invalid expected_status on a grpc check is reported once",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    expected_status = "2xx"
    type            = "grpc"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Attribute not used by this check type", detail: "Remove expected_status", line: 7, col: 23,
		},
		{
			name: "grpc_service on the default http check",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    grpc_service = "mypackage.MyService"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Attribute not used by this check type", detail: `this check is type = "http". Set type = "grpc"`, line: 7, col: 20,
		},
		{
			name: "grpc_service on a tcp check",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    type         = "tcp"
    grpc_service = ""
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Attribute not used by this check type", detail: `this check is type = "tcp"`, line: 8, col: 20,
		},
		{
			name: "reuse_connection on a tcp check",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    type             = "tcp"
    reuse_connection = false
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Attribute not used by this check type", detail: `reuse_connection only applies to type = "http"`, line: 8, col: 24,
		},
		{
			name: "reuse_connection not a bool",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    reuse_connection = "sometimes"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Unsuitable value type", line: 7, col: 25,
		},
		{
			name: "grpc_service not a string",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    type         = "grpc"
    grpc_service = ["a"]
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Unsuitable value type", line: 8, col: 20,
		},
		{
			name: "health check path without a slash",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    path = "readyz"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid path", line: 7, col: 12,
		},
		{
			name: "health check port out of range",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    port = 65536
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Value out of range", detail: "1..65535", line: 7, col: 12,
		},
		{
			name: "two health_check blocks",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {}
  health_check {}
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Duplicate health_check block", line: 7, col: 3,
		},
		{
			name: "weight zero",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" { weight = 0 }
}
`,
			summary: "Value out of range", detail: "weight must be at least 1", line: 6, col: 39,
		},
		{
			name: "weight of the wrong type",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" {
    weight = "heavy"
  }
}
`,
			summary: "Unsuitable value type", detail: "a number is required", line: 7, col: 15,
		},
		{
			name: "fractional weight",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  backend "127.0.0.1:9001" { weight = 1.5 }
}
`,
			summary: "Unsuitable value type", detail: "whole number", line: 6, col: 39,
		},
		{
			name: "variables are not allowed",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  health_check {
    interval = var.interval
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Variables not allowed", detail: "literally", line: 7, col: 16,
		},
		{
			name: "max_request_body_size zero",
			src: `listener "l" {
  address               = "127.0.0.1:8080"
  pool                  = "p"
  max_request_body_size = 0
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Value out of range", detail: "max_request_body_size", line: 4, col: 27,
		},
		{
			name: "trusted_proxies bad CIDR",
			src: `listener "l" {
  address         = "127.0.0.1:8080"
  pool            = "p"
  trusted_proxies = ["10.0.0.0/8", "10.0.0.0/33"]
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid trusted proxy", detail: `"10.0.0.0/33"`, line: 4, col: 36,
		},
		{
			name: "trusted_proxies bad IP",
			src: `listener "l" {
  address         = "127.0.0.1:8080"
  pool            = "p"
  trusted_proxies = [
    "127.0.0.1",
    "localhost",
  ]
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid trusted proxy", detail: `"localhost"`, line: 6, col: 5,
		},
		{
			name: "trusted_proxies not a list",
			src: `listener "l" {
  address         = "127.0.0.1:8080"
  pool            = "p"
  trusted_proxies = "10.0.0.0/8"
}
pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Unsuitable value type", line: 4, col: 22,
		},
		{
			name: "max_conns_per_backend zero",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  max_conns_per_backend = 0
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Value out of range", detail: "max_conns_per_backend", line: 6, col: 27,
		},
		{
			name: "retry attempts above the maximum",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  retry {
    attempts = 11
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Value out of range", detail: "attempts must be in 0..10; it is 11", line: 7, col: 16,
		},
		{
			name: "retry attempts negative",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  retry {
    attempts = -1
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Value out of range", detail: "attempts must be in 0..10; it is -1", line: 7, col: 16,
		},
		{
			name: "zero per_try_timeout",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  retry {
    per_try_timeout = "0s"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid duration", detail: "per_try_timeout must be longer than zero; it is \"0s\". Remove it to give each try the pool's whole header_timeout", line: 7, col: 23,
		},
		{
			name: "per_try_timeout longer than header_timeout",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  header_timeout = "2s"
  retry {
    per_try_timeout = "3s"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Per-try timeout longer than header timeout", detail: "per_try_timeout (3s) is longer than the pool's header_timeout (2s), which bounds every try together until the response header arrives, so a try could never use it all: lower per_try_timeout, or raise header_timeout.", line: 8, col: 23,
		},
		{
			name: "per_try_timeout longer than a header_timeout that defaults to response_timeout",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  response_timeout = "2s"
  retry {
    per_try_timeout = "3s"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Per-try timeout longer than header timeout", detail: "per_try_timeout (3s) is longer than the pool's header_timeout (2s, by default its response_timeout at line 6), which bounds every try together until the response header arrives, so a try could never use it all: lower per_try_timeout, or raise response_timeout.", line: 8, col: 23,
		},
		{
			name: "per_try_timeout longer than the default header_timeout",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  retry {
    per_try_timeout = "45s"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Per-try timeout longer than header timeout", detail: "per_try_timeout (45s) is longer than the pool's default header_timeout (30s), which bounds every try together until the response header arrives, so a try could never use it all: lower per_try_timeout, or write a longer header_timeout in the pool.", line: 7, col: 23,
		},
		{
			name: "per_try_timeout under response_timeout but over a shorter written header_timeout",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  response_timeout = "1m"
  header_timeout   = "5s"
  retry {
    per_try_timeout = "10s"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Per-try timeout longer than header timeout", detail: "the pool's header_timeout (5s)", line: 9, col: 23,
		},
		{
			name: "per_try_timeout over an invalid header_timeout is not compared",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  header_timeout = "0s"
  retry {
    per_try_timeout = "45s"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid duration", detail: `header_timeout must be longer than zero; it is "0s". Remove it to use the default, 30s.`, line: 6, col: 20,
		},
		{
			name: "header_timeout longer than response_timeout",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  response_timeout = "20s"
  header_timeout   = "30s"
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Header timeout longer than response timeout", detail: "header_timeout (30s) is longer than response_timeout (20s) at line 6, which bounds the whole answer, header included, so the header could never take that long: make header_timeout at most 20s, or raise response_timeout, or remove response_timeout for no limit on the whole answer.", line: 7, col: 22,
		},
		{
			name: "header_timeout longer than response_timeout written after it",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  header_timeout   = "2m"
  response_timeout = "90s"
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Header timeout longer than response timeout", detail: "header_timeout (2m0s) is longer than response_timeout (1m30s) at line 7", line: 6, col: 22,
		},
		{
			name: "zero header_timeout defaulting to response_timeout names that default",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  response_timeout = "1m"
  header_timeout   = "0s"
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid duration", detail: `header_timeout must be longer than zero; it is "0s". Remove it to use the default, 1m0s.`, line: 7, col: 22,
		},
		{
			name: "zero response_timeout",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  response_timeout = "0s"
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid duration", detail: `response_timeout must be longer than zero; it is "0s". Remove it for no limit on the whole answer (the default; header_timeout and body_idle_timeout still bound a backend that stalls).`, line: 6, col: 22,
		},
		{
			name: "negative response_timeout",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  response_timeout = "-30s"
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid duration", detail: `it is "-30s". Remove it for no limit`, line: 6, col: 22,
		},
		{
			name: "response_timeout not a duration",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  response_timeout = "none"
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid duration", detail: `response_timeout = "none" is not a duration`, line: 6, col: 22,
		},
		{
			name: "zero body_idle_timeout",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  body_idle_timeout = "0s"
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid duration", detail: `body_idle_timeout must be longer than zero; it is "0s". Remove it to use the default, 1m0s.`, line: 6, col: 23,
		},
		{
			name: "header_timeout not a string",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  header_timeout = 30
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid duration", detail: `header_timeout = "30" is not a duration`, line: 6, col: 20,
		},
		{
			name: "unknown retry condition points at the element and lists the valid ones",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  retry {
    on = ["reset", "503", "500"]
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Unknown retry condition", detail: `"500" is not a retry condition; use any of connect_failure, reset, timeout, 502, 503, 504, 5xx`, line: 7, col: 27,
		},
		{
			name: "retry condition twice points at the second",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  retry {
    on = ["reset", "timeout", "reset"]
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Duplicate retry condition", detail: `"reset" is listed twice`, line: 7, col: 31,
		},
		{
			name: "retry condition list on several lines",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  retry {
    on = [
      "connect_failure",
      "Reset",
    ]
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Unknown retry condition", detail: `"Reset"`, line: 9, col: 7,
		},
		{
			name: "empty retry condition list",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  retry {
    on = []
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Empty retry condition list", detail: "write attempts = 0 instead", line: 7, col: 10,
		},
		{
			name: "retry conditions as a string, not a list",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  retry {
    on = "reset"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Unsuitable value type", detail: "list of string required", line: 7, col: 11, // inside the quotes, as gohcl reports it
		},
		{
			name: "retry budget above 100 percent",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  retry {
    budget_percent = 101
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Value out of range", detail: "budget_percent must be in 0..100; it is 101. Remove it to use the default, 20.", line: 7, col: 22,
		},
		{
			name: "two retry blocks",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  retry {}
  retry {}
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Duplicate retry block", line: 7, col: 3,
		},
		{
			name: "passive consecutive_failures zero",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  passive {
    consecutive_failures = 0
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Value out of range", detail: "consecutive_failures must be at least 1; it is 0. Remove it to use the default, 5.", line: 7, col: 28,
		},
		{
			name: "passive consecutive_timeouts zero",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  passive {
    consecutive_timeouts = 0
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Value out of range", detail: "consecutive_timeouts must be at least 1; it is 0. Remove it to use the default, 2.", line: 7, col: 28,
		},
		{
			name: "zero base_ejection",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  passive {
    base_ejection = "0s"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid duration", detail: "base_ejection must be longer than zero", line: 7, col: 21,
		},
		{
			name: "max_ejection shorter than base_ejection points at max_ejection",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  passive {
    base_ejection = "30s"
    max_ejection  = "20s"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Ejection cap shorter than base", detail: `max_ejection (20s) is shorter than base_ejection (30s); the first ejection would already pass the cap: raise max_ejection to at least "30s"`, line: 8, col: 21,
		},
		{
			name: "base_ejection longer than the default max_ejection points at base_ejection",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  passive {
    base_ejection = "10m"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Ejection cap shorter than base", detail: `max_ejection defaults to 5m0s, which is shorter than base_ejection (10m0s)`, line: 7, col: 21,
		},
		{
			name: "max_ejected_percent above 100",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  passive {
    max_ejected_percent = 101
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Value out of range", detail: "max_ejected_percent must be in 0..100; it is 101. Remove it to use the default, 50.", line: 7, col: 27,
		},
		{
			name: "passive enabled not a bool",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  passive {
    enabled = "yes"
  }
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Unsuitable value type", detail: "a bool is required", line: 7, col: 16, // inside the quotes, as gohcl reports it
		},
		{
			name: "two passive blocks",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  passive {}
  passive {}
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Duplicate passive block", line: 7, col: 3,
		},
		{
			name: "unknown when_all_unhealthy lists the valid ones",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  when_all_unhealthy = "fail_fast"
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Unknown when_all_unhealthy mode", detail: "use one of fail_open, fail_closed", line: 6, col: 24,
		},
		{
			name: "panic_threshold above 100",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  panic_threshold = 101
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Value out of range", detail: "panic_threshold must be in 0..100; it is 101. Remove it to use the default, 50.", line: 6, col: 21,
		},
		{
			name: "panic_threshold negative with fail_closed",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  when_all_unhealthy = "fail_closed"
  panic_threshold    = -1
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Value out of range", detail: "panic_threshold must be in 0..100; it is -1. Remove it to use the default, 0.", line: 7, col: 24,
		},
		{
			name: "panic_threshold with fail_closed",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  when_all_unhealthy = "fail_closed"
  panic_threshold    = 50
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Conflicting unhealthy policy", detail: `when_all_unhealthy = "fail_closed" at line 6 promises never to do`, line: 7, col: 24,
		},
		{
			name: "negative slow_start",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  slow_start = "-1s"
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid duration", detail: `slow_start must not be negative; it is "-1s". Write "0s" to turn slow start off`, line: 6, col: 16,
		},
		{
			name: "silent_after neither auto, off nor a duration",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  silent_after = "fast"
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid silent_after", detail: `silent_after = "fast" is not "auto", "off" or a duration`, line: 6, col: 18,
		},
		{
			name: "zero silent_after",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  silent_after = "0s"
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid silent_after", detail: `silent_after must be longer than zero; it is "0s". Write "off"`, line: 6, col: 18,
		},
		{
			name: "negative silent_after",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  silent_after = "-5ms"
  backend "127.0.0.1:9001" {}
}
`,
			summary: "Invalid silent_after", detail: `it is "-5ms"`, line: 6, col: 18,
		},
		{
			name: "pool without backends",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = "p"
}
pool "p" {
  algorithm = "random"
}
`,
			summary: "Pool has no backends", detail: "at least one backend", line: 5, col: 1,
		},
		{
			name: "no listener at all",
			src: `pool "p" {
  backend "127.0.0.1:9001" {}
}
`,
			summary: "No listener", detail: "at least one listener", line: 1, col: 1,
		},
		{
			name:    "empty file",
			src:     ``,
			summary: "No listener", line: 1, col: 1,
		},
		{
			name: "syntax error",
			src: `listener "l" {
  address = "127.0.0.1:8080"
  pool    = 
}
`,
			summary: "Invalid expression", line: 3, col: 13,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := Parse([]byte(tt.src), "lb.hcl")
			if cfg != nil {
				t.Errorf("Parse returned a Config along with errors")
			}
			d := mustOneDiag(t, diags)
			if d.Severity != hcl.DiagError {
				t.Errorf("severity = %v, want error", d.Severity)
			}
			if !strings.Contains(d.Summary, tt.summary) {
				t.Errorf("summary = %q, want it to contain %q", d.Summary, tt.summary)
			}
			if d.Detail == "" || !strings.Contains(d.Detail, tt.detail) {
				t.Errorf("detail = %q, want it to contain %q", d.Detail, tt.detail)
			}
			if d.Subject == nil {
				t.Fatalf("diagnostic has no subject: %s; %s", d.Summary, d.Detail)
			}
			if d.Subject.Filename != "lb.hcl" || d.Subject.Start.Line != tt.line || d.Subject.Start.Column != tt.col {
				t.Errorf("at %s, want lb.hcl line %d column %d", d.Subject, tt.line, tt.col)
			}
			if want := d.Subject.String() + ": " + d.Summary + "; "; !strings.HasPrefix(d.Error(), want) {
				t.Errorf("Error() = %q, want prefix %q", d.Error(), want)
			}
		})
	}
}

// TestThreeMistakes is the acceptance case: three different mistakes in
// one file give exactly three diagnostics, in file order.
func TestThreeMistakes(t *testing.T) {
	src := `listener "public" {
  address = "127.0.0.1:8080"
  pool    = "webb"
}

pool "web" {
  algorithm = "round_robin"
  health_check {
    interval = "10"
  }
  backend "127.0.0.1:9001" {}
  backend "127.0.0.1:9001" {}
}
`
	cfg, diags := Parse([]byte(src), "lb.hcl")
	if cfg != nil {
		t.Errorf("Parse returned a Config along with errors")
	}
	want := []string{
		`lb.hcl:3,13-19: Unknown pool; `,
		`lb.hcl:9,16-20: Invalid duration; `,
		`lb.hcl:12,11-27: Duplicate backend; `,
	}
	mustDiagPrefixes(t, diags, want)

	var out bytes.Buffer
	WriteDiagnostics(&out, diags)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("WriteDiagnostics wrote %d lines, want 3:\n%s", len(lines), out.String())
	}
	for i, line := range lines {
		if line != diags[i].Error() {
			t.Errorf("line %d = %q, want %q", i, line, diags[i].Error())
		}
	}
}

func TestWriteDiagnostics(t *testing.T) {
	rng := hcl.Range{
		Filename: "lb.hcl",
		Start:    hcl.Pos{Line: 12, Column: 5, Byte: 100},
		End:      hcl.Pos{Line: 12, Column: 9, Byte: 104},
	}
	diags := hcl.Diagnostics{
		{Severity: hcl.DiagError, Summary: "Bad thing", Detail: "Fix it\n  like this.", Subject: &rng},
		{Severity: hcl.DiagWarning, Summary: "Odd thing", Detail: "Check it.", Subject: &rng},
		{Severity: hcl.DiagError, Summary: "No place"},
	}
	var out bytes.Buffer
	WriteDiagnostics(&out, diags)
	want := "lb.hcl:12,5-9: Bad thing; Fix it like this.\n" +
		"lb.hcl:12,5-9: warning: Odd thing; Check it.\n" +
		"No place\n"
	if out.String() != want {
		t.Errorf("WriteDiagnostics wrote\n%s\nwant\n%s", out.String(), want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	cfg, diags := Load("testdata/does-not-exist.hcl")
	if cfg != nil || len(diags) != 1 || !diags.HasErrors() {
		t.Fatalf("Load = %v, %v; want nil and one error", cfg, diags)
	}
	got := diags[0].Error()
	if want := "testdata/does-not-exist.hcl:1,1-1: Cannot read configuration file; "; !strings.HasPrefix(got, want) {
		t.Errorf("Error() = %q, want prefix %q", got, want)
	}
}
