// Package config decodes the load balancer's HCL configuration file into
// plain Go values, fills in defaults and validates it.
//
// # Schema
//
// Durations are strings in time.ParseDuration form ("200ms", "10s",
// "1m30s") and must be positive, except the delays marked ">= 0", where
// "0s" means at once; sizes are bytes. Defaults are shown.
//
//	admin {                               # optional; no block, no admin listener
//	  address        = "127.0.0.1:9901"   # required in the block
//	  shutdown_delay = "0s"               # >= 0; after SIGTERM, listeners keep serving this long
//	                                      # while /readyz already answers 503
//	  grace_period   = "30s"              # then in-flight requests get this long to finish
//	  pprof          = false              # true: Go's profiles at /debug/pprof/ (CPU:
//	                                      # /debug/pprof/profile?seconds=N); token-guarded if set
//	  ready_pools    = "every"            # every | any | none: which pools need a healthy
//	                                      # backend for /readyz to be 200
//	  upstream_probe {                    # optional; instead of shutdown_delay, never both
//	    interval            = "10s"       # required; how often the tier in front probes /readyz
//	    unhealthy_threshold = 3           # required, at least 1; its failures to take the LB out
//	  }                                   # shutdown delay = interval x (unhealthy_threshold + 1)
//	}
//	listener "public" {                   # at least one; names unique
//	  address               = "127.0.0.1:8080"  # required; ":8080" for every interface
//	  pool                  = "web"             # required; for requests no route takes
//	  read_timeout          = "30s"             # whole request, headers and body, from its first byte
//	  read_header_timeout   = "10s"             # request line + header (slowloris); default
//	                                            # min(10s, read_timeout); at most read_timeout
//	  body_read_timeout     = "30s"             # body, from the end of the header (slow POST);
//	                                            # default read_timeout; at most read_timeout
//	  write_timeout         = "30s"             # the answer; a client not reading it is cut
//	  idle_timeout          = "60s"             # client keep-alive idle; WebSocket idle
//	  max_request_body_size = 10485760          # 10 MiB; more: 413
//	  request_buffer_size   = 16384             # 1024..max_request_body_size; default 16 KiB, or
//	                                            # max_request_body_size if smaller; bodies up to it are
//	                                            # read whole (retryable), larger ones streamed
//	  max_header_bytes      = 16384             # 1024..1048576; request line + header; more: 431
//	  max_header_count      = 100               # 1..10000 header fields; more: 431
//	  max_uri_length        = 8192              # 1..max_header_bytes; longer target: 414
//	  max_connections       = 10000             # 1..1000000 open client connections; more: 503, closed
//	  trusted_proxies       = []                # CIDRs or IPs whose X-Forwarded-* are kept
//	  redirect_https        = false             # true: answer every request 308 to https://host[:port]/same/target;
//	                                            # pool and routes are then unused (pool optional, routes refused)
//	  redirect_https_port   = 8443              # optional, 1..65535; default the port of the one TLS
//	                                            # listener (required when there are none or several)
//	  access_log {                        # optional; one line per request (and per stream or
//	                                      # WebSocket when it ends), never blocking a request
//	    output     = "stdout"             # "stdout" | "stderr" | a file, relative to this file
//	                                      # (appended to; reopened on SIGUSR1)
//	    format     = "json"               # "json" (every field) | "combined" (Apache/NGINX)
//	    sample_2xx = 1.0                  # 0..1: share of 2xx lines written; others always
//	    buffer     = 1024                 # 16..1048576 lines waiting for the writer; more dropped
//	  }
//	  tls {                               # optional; the listener then accepts TLS only
//	    min_version = "1.2"               # "1.2" | "1.3"; 1.0 and 1.1 are refused (RFC 8996)
//	    certificate "site" {              # at least one; names unique in the listener
//	      cert_file    = "site.crt"       # required; PEM chain, leaf first; relative to this file
//	      key_file     = "site.key"       # required; PEM key matching the certificate
//	      server_names = ["www.example.com", "*.example.com"]  # SNI names; default the
//	                                      # certificate's DNS SANs; no name in two certificates
//	      default      = false            # served without SNI or for an unknown name;
//	                                      # at most one; default the first certificate
//	    }
//	  }
//	  route {                             # zero or more; first match wins
//	    host        = "api.example.com"   # host, path_prefix or both
//	    path_prefix = "/api/"             # starts with "/"
//	    pool        = "api"               # required
//	  }
//	}
//	pool "web" {                          # names unique
//	  algorithm             = "round_robin"  # see Algorithms
//	  header_timeout        = "30s"          # until a backend's response header, from the start of
//	                                         # the client request, every try included; default 30s,
//	                                         # or response_timeout when only that is written
//	  body_idle_timeout     = "60s"          # longest a backend may send no byte of the body once
//	                                         # its header has arrived (a gap, not a total)
//	  response_timeout      = "5m"           # optional, default none: the whole answer, body
//	                                         # included; a streamed answer (SSE, a large download)
//	                                         # longer than this is cut, so leave it unset for
//	                                         # streaming pools; at least header_timeout
//	  connect_timeout       = "2s"
//	  idle_conn_timeout     = "10s"          # below the backends' keep-alive timeout
//	  max_conns_per_backend = 1024
//	  deregistration_delay  = "300s"         # >= 0; a DRAINING backend's requests are
//	                                         # cancelled after this ("0s": at once)
//	  when_all_unhealthy    = "fail_open"    # fail_open | fail_closed: with no HEALTHY backend,
//	                                         # route across every non-draining one, or answer 503
//	  panic_threshold       = 50             # 0..100; percent HEALTHY below which the pool routes
//	                                         # across every non-draining backend; 0 = off;
//	                                         # with fail_closed the default is 0 and only 0 is allowed
//	  slow_start            = "0s"           # >= 0; a newly HEALTHY backend's share ramps from
//	                                         # 10% to 100% over this ("0s": off)
//	  silent_after          = "auto"         # auto | off | a duration: skip a backend whose oldest
//	                                         # request waits this long unanswered; auto = 8 x the
//	                                         # pool's recent p99, at least 300ms
//	  health_check {                      # optional; defaults apply without it
//	    type                = "http"      # http | tcp | grpc (grpc.health.v1.Health/Check); TLS with the pool's tls
//	    path                = "/readyz"   # starts with "/"; http only
//	    host                = "web.internal"  # optional Host header (grpc: :authority); default the backend address
//	    grpc_service        = ""          # grpc only; the service to ask about; "" = the whole server
//	    port                = 8081        # optional, 1..65535; default the backend's own port
//	    reuse_connection    = true        # http only; false: a new connection per probe
//	    interval            = "10s"
//	    timeout             = "5s"        # shorter than interval
//	    healthy_threshold   = 2           # at least 1
//	    unhealthy_threshold = 3           # at least 1
//	    expected_status     = "200"       # also "200,202", "200-299", "200-204,301"; http only
//	  }
//	  retry {                             # optional; defaults apply without it
//	    attempts        = 1               # 0..10 extra tries, each on another backend; 0 = none
//	    per_try_timeout = "1s"            # one try, until its header; default and at most the
//	                                      # pool's header_timeout
//	    on              = ["connect_failure", "reset"]  # any of connect_failure, reset,
//	                                      # timeout, 502, 503, 504, 5xx; none twice
//	    budget_percent  = 20              # 0..100; retries per 100 requests, plus 3 per second
//	  }
//	  passive {                           # optional; on, with these defaults, without it
//	    enabled              = true
//	    consecutive_failures = 5          # at least 1; 5xx answers or transport errors in a row
//	    consecutive_timeouts = 2          # at least 1; per-try timeouts in a row
//	    base_ejection        = "10s"      # ejected for base_ejection x times ejected,
//	    max_ejection         = "300s"     # capped at this; at least base_ejection
//	    max_ejected_percent  = 50         # 0..100; most of the pool held out by ejection or silence at once
//	  }
//	  tls {                               # optional; speak TLS to the backends (traffic and checks)
//	    ca_file              = "ca.pem"   # PEM CA certificates; default the system roots
//	    server_name          = "api.internal"  # SNI and verified name; default each backend's host
//	    insecure_skip_verify = false      # true: no verification (a warning); not with ca_file
//	  }
//	  hash {                              # optional; only with algorithm = "consistent_hash"
//	    key         = "client_ip"         # or "path", "header:NAME", "cookie:NAME", "query:NAME";
//	                                      # a request without it goes round robin
//	    load_factor = 1.25                # above 1, at most 100: no backend takes more than this
//	                                      # many times its fair share of the requests in flight
//	  }
//	  sticky {                            # optional; session affinity by cookie, any algorithm
//	    cookie   = "lb_web"               # default "lb_" + the pool's name; an HTTP token
//	    ttl      = "0s"                   # the cookie's Max-Age; 0s: a session cookie; else >= 1s
//	    key_file = "sticky.key"           # optional; >= 16 bytes signing the cookies, shared by
//	                                      # every LB that should understand them; default a
//	                                      # random key per process (cookies end at a restart)
//	  }
//	  backend "127.0.0.1:9001" { weight = 1 }  # host:port, unique in the pool; at least one,
//	                                      # unless the pool has a discovery block
//	  discovery "dns" {                   # zero or more; backends from DNS, beside the backend blocks
//	    name     = "_http._tcp.web.internal"  # required; SRV name, or a host name for type "a"
//	    type     = "srv"                  # srv | a (A and AAAA); default srv when name starts
//	                                      # with "_", else a
//	    port     = 8080                   # required for type a (1..65535); refused for srv,
//	                                      # whose records carry their port
//	    resolver = "127.0.0.1:8600"       # optional IP:port; default the first nameserver
//	                                      # of /etc/resolv.conf
//	    refresh  = "5s"                   # optional, 1s..5m; default: each answer's TTL,
//	                                      # clamped to 1s..5m
//	    timeout  = "2s"                   # one lookup
//	  }
//	  discovery "etcd" {                  # zero or more; one key per backend under prefix
//	    endpoints     = ["127.0.0.1:2379"]  # required, at least one; host:port or
//	                                      # http(s)://host:port, not http and https mixed
//	    prefix        = "/lb/pools/web/"  # required; a prefix without a trailing "/" is a warning
//	    username      = "lb"              # optional; with password_file, never without
//	    password_file = "etcd.pass"       # read at load, relative to this file; trailing
//	                                      # line break trimmed
//	    dial_timeout  = "5s"
//	    tls {                             # optional; an https:// endpoint without it uses the
//	                                      # system's roots
//	      ca_file   = "etcd-ca.pem"       # PEM CA certificates; default the system's roots
//	      cert_file = "client.crt"        # client certificate; with key_file, never without
//	      key_file  = "client.key"
//	    }
//	  }
//	}
//
// # Shutdown
//
// On SIGTERM the LB answers /readyz with 503 at once, keeps its listeners
// serving for the shutdown delay so the load balancer in front sees the
// 503s and stops sending, then stops accepting and gives in-flight
// requests grace_period to finish. The delay is shutdown_delay, or, with
// an upstream_probe block, the time that prober needs to notice plus one
// interval of margin for the probe already in flight: interval = "10s"
// and unhealthy_threshold = 3 give 10s x 3 + 10s = 40s. Without an admin
// block there is no /readyz to watch, so the delay is 0s and grace_period
// is 30s. Config.ShutdownTiming returns both with a derivation to log.
//
// A pool's deregistration_delay is the same idea for one backend: how
// long a DRAINING backend's in-flight requests may run (it leaves
// DRAINING earlier when its last request ends).
//
// # Request-path resilience
//
// Active checks see a failure only after interval × threshold; a pool's
// request path notices sooner, and its defaults are on. A failed request
// is retried once on another backend when it never got an answer
// (connect_failure, reset), within a budget of 20% of requests plus 3 per
// second so a failing pool sees no retry storm (Pool.Retry). A backend
// that fails 5 requests or times out 2 in a row is ejected for 10s, then
// longer each time up to 300s, never more than half the pool at once
// (Pool.Passive): that is what catches a backend that fails traffic while
// its health endpoint says ok. A backend whose oldest request has gone
// unanswered for 8 × the pool's p99 (at least 300ms) while others answer
// is skipped until it answers (Pool.SilentAfter). With fewer than 50% of
// its backends HEALTHY a pool routes across all non-draining ones, and
// with none HEALTHY it fails open as an AWS ALB does
// (Pool.PanicThreshold, Pool.WhenAllUnhealthy). Slow start is off. The
// Pool, Retry and Passive field docs give each default's reason; DRAINING
// backends never get new requests in any mode.
//
// # Answer timeouts and streaming
//
// A pool bounds a backend's answer in two phases. Until the response
// header arrives, header_timeout bounds all tries together, from the
// start of the client request, and per_try_timeout (when written) each
// try. Once the header has arrived, body_idle_timeout bounds each gap
// between two bytes of the body, so a Server-Sent Events stream that
// sends a heartbeat more often, or a large download that keeps moving,
// lives as long as it needs. response_timeout
// bounds the whole answer, body included, only when it is written: a
// streamed answer longer than it is cut, so leave it unset for streaming
// pools. A file written before header_timeout existed keeps its meaning:
// response_timeout = "60s" alone gives header_timeout = 60s. Written
// values must nest: per_try_timeout <= header_timeout <= response_timeout
// (errors otherwise), and a body_idle_timeout longer than response_timeout
// is a warning, since it can never be reached.
//
// On the request side, a listener reads a request body of up to
// request_buffer_size bytes whole before forwarding it, so a retry can
// replay it; a larger one, and a chunked one that grows past it, is
// streamed to the backend as it arrives. max_request_body_size still
// refuses a larger body with 413, so request_buffer_size may not exceed
// it, and defaults to it when it is below 16 KiB.
//
// # TLS
//
// Certificate, key and CA files are read and parsed at load, so a missing,
// unreadable or malformed file, or a key that does not match its
// certificate, is a diagnostic at the attribute (lb validate reports it and
// a reload with it changes nothing). A certificate that is expired or not
// yet valid, a server_names entry its SANs do not cover, and
// insecure_skip_verify = true are warnings. A TLS listener advertises only
// "http/1.1" in ALPN (ALPNProtocol). Certificates are matched to the SNI
// name exactly (case and a trailing dot ignored), then by a "*." wildcard
// for one label, then the default.
//
// # Discovery
//
// A pool's discovery blocks name registries its backends come from, read
// at run time (package discovery does that); here they are only decoded
// and checked. Files they name (password_file, the tls block's files)
// are read at load, like every other file, so a missing one is a
// diagnostic and a reload reads them again. No two blocks of one pool
// may read the same source: the same record type and name, or the same
// prefix of the same etcd members (order, scheme and case of the
// endpoints aside). Discovery.Equal tells a reload whether a block
// changed, comparing the files' contents rather than their names.
//
// # Diagnostics
//
// Every problem is an *hcl.Diagnostic of error severity with a summary, a
// detail that says what to do, and a subject range naming the file, line
// and column. A few doubtful settings (see TLS, and body_idle_timeout
// above) are warnings of the same form instead, which do not stop the
// file from loading. All problems in a file are reported in one pass, sorted by
// position (a syntax error stops decoding, since the rest of the file
// cannot be trusted). hcl.Diagnostic.Error and WriteDiagnostics format one
// as "lb.hcl:12,5-9: Summary; Detail".
//
// Two listen addresses (admin or listener) clash when their ports are
// equal and their hosts are equal or either is a wildcard ("", "0.0.0.0",
// "::"); port 0 never clashes. Hosts are not resolved, so
// "localhost:8080" and "127.0.0.1:8080" are not reported.
//
// # Use
//
// A decoded Config is plain data: it holds no goroutines, files or
// sockets, and nothing in this package keeps a reference to it, so it is
// safe for concurrent reads. Treat it as immutable. The package keeps no
// state of its own and imports nothing else from the project.
package config
