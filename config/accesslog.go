package config

import (
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
)

// Access log formats, the valid values of access_log's "format".
const (
	AccessLogJSON     = "json"
	AccessLogCombined = "combined"
)

// Access log outputs that are not files.
const (
	AccessLogStdout = "stdout"
	AccessLogStderr = "stderr"
)

// Defaults and bounds of an access_log block.
const (
	// DefaultAccessLogBuffer is "buffer"'s default: records that may wait
	// for the writer before more are dropped (about a second of traffic
	// at 1,000 requests per second; at most about 3.5 MiB).
	DefaultAccessLogBuffer = 1024
	minAccessLogBuffer     = 16
	maxAccessLogBuffer     = 1 << 20
)

// AccessLog is a listener's "access_log" block: one line per request
// (and per WebSocket or streamed answer when it ends), written off the
// request path through a bounded queue; when the queue is full a line is
// dropped and counted, never waited for.
type AccessLog struct {
	// Output is where lines go ("output", default "stdout"): "stdout",
	// "stderr", or a file path, relative to the configuration file,
	// opened for appending (created if missing, mode 0644) and reopened
	// on SIGUSR1. A missing directory is a warning at load and an error
	// when the LB starts or reloads.
	Output string

	// Format is "json" (every field, one object per line; the default)
	// or "combined" (the Apache/NGINX combined layout) ("format").
	Format string

	// Sample2xx is the share of 2xx lines written, 0..1 ("sample_2xx",
	// default 1: all). Other statuses are always written; the lines kept
	// are spread evenly, not drawn at random.
	Sample2xx float64

	// Buffer is how many lines may wait for the writer ("buffer",
	// default 1024, 16..1048576); one more is dropped and counted.
	Buffer int

	// DeclRange is where the block is declared.
	DeclRange hcl.Range
}

// accessLogBlock is an access_log block inside a listener.
type accessLogBlock struct {
	Output    hcl.Expression `hcl:"output,optional"`
	Format    hcl.Expression `hcl:"format,optional"`
	Sample2xx hcl.Expression `hcl:"sample_2xx,optional"`
	Buffer    hcl.Expression `hcl:"buffer,optional"`

	DeclRange hcl.Range `hcl:",def_range"`
}

// decodeAccessLogBlock decodes a listener's access_log block (nil when
// there is none).
func decodeAccessLogBlock(b *accessLogBlock) (*AccessLog, hcl.Diagnostics) {
	if b == nil {
		return nil, nil
	}
	var diags, moreDiags hcl.Diagnostics
	a := &AccessLog{DeclRange: b.DeclRange}

	a.Output, moreDiags = decodeText("output", b.Output, AccessLogStdout)
	diags = append(diags, moreDiags...)
	if a.Output != "" && a.Output != AccessLogStdout && a.Output != AccessLogStderr {
		a.Output = besideConfig(a.Output, b.Output.Range())
		dir := filepath.Dir(a.Output)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			// A warning: the directory may be made before the LB
			// starts; if it is not, opening the file fails the start
			// (or the reload) with the path in the error.
			diags = append(diags, warnf(b.Output.Range(), "Access log directory missing",
				"The directory of output = %q (%s) does not exist or is not a directory: the LB cannot start (or reload) with this file until it is created. Create it, or write \"stdout\" or \"stderr\".", a.Output, dir))
		}
	}

	a.Format, moreDiags = decodeText("format", b.Format, AccessLogJSON)
	diags = append(diags, moreDiags...)
	if a.Format != "" && a.Format != AccessLogJSON && a.Format != AccessLogCombined {
		diags = append(diags, errorf(b.Format.Range(), "Invalid access log format",
			"format = %q is not a format: write \"json\" (every field) or \"combined\" (the Apache/NGINX combined layout).", a.Format))
	}

	a.Sample2xx = 1
	if v, set, d := decodeValue[float64](b.Sample2xx); d.HasErrors() {
		diags = append(diags, d...)
	} else if set {
		if v < 0 || v > 1 {
			diags = append(diags, errorf(b.Sample2xx.Range(), "Value out of range",
				"sample_2xx is the share of 2xx lines written and must be in 0..1, such as 0.1 for one in ten; it is %v.", v))
		} else {
			a.Sample2xx = v
		}
	}

	a.Buffer, moreDiags = decodeIntIn("buffer", b.Buffer, DefaultAccessLogBuffer, minAccessLogBuffer, maxAccessLogBuffer)
	diags = append(diags, moreDiags...)
	return a, diags
}
