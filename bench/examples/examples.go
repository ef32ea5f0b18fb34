// Package examples holds the benchmarks' example configurations as
// files, to read, copy and run by hand, and embeds the templates that
// `go run ./bench/cost` renders: lb-cost.hcl, haproxy-cost.cfg,
// nginx-cost.conf and bare-cost.conf, each a working configuration whose 127.0.0.1
// addresses the tool replaces by the ports it picked.
package examples

import "embed"

// cost holds the templates of bench/cost (read-only).
//
//go:embed lb-cost.hcl lb-cost-accesslog.hcl haproxy-cost.cfg nginx-cost.conf bare-cost.conf
var cost embed.FS

// CostTemplate returns the content of one of bench/cost's templates:
// "lb-cost.hcl", "lb-cost-accesslog.hcl", "haproxy-cost.cfg",
// "nginx-cost.conf" or "bare-cost.conf".
func CostTemplate(name string) (string, error) {
	b, err := cost.ReadFile(name)
	return string(b), err
}
