package metrics

import (
	"bufio"
	"compress/gzip"
	"io"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/valyala/fasthttp"
)

// textContentType is the Content-Type of the answer: Prometheus text
// format 0.0.4, as promhttp names it.
const textContentType = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"

// Handler serves every metric in Prometheus text format 0.0.4, gzipped
// when the scraper accepts gzip. It always answers text: protobuf and
// OpenMetrics are not offered (a scraper that asks for them, as
// Prometheus does by default, takes text as it does from any exporter
// that lacks them). The families are in name order; within a pool
// family the series are in pool order, then backend order (the order of
// pool.Pool.Backends), not sorted by label values. The body is streamed
// (chunked) as it is written: the pool families are read from the pools'
// atomics backend by backend into one 36 KB buffer, so a scrape of
// 10,000 backends allocates about that buffer, the gzip writer and the
// registry's part, not the ~10 MB of text. Safe for concurrent use.
func (m *Metrics) Handler() fasthttp.RequestHandler { return m.serve }

// serve is Handler.
func (m *Metrics) serve(ctx *fasthttp.RequestCtx) {
	fams, err := m.reg.Gather()
	if err != nil {
		// As promhttp's HTTPErrorOnError: a collector failed.
		ctx.Error("An error has occurred while serving metrics:\n\n"+err.Error(), fasthttp.StatusInternalServerError)
		return
	}
	pools := m.pools()
	ctx.SetContentType(textContentType)
	ctx.Response.Header.Set("Vary", "Accept-Encoding")
	gz := ctx.Request.Header.HasAcceptEncoding("gzip")
	if gz {
		ctx.Response.Header.Set("Content-Encoding", "gzip")
	}
	if ctx.IsHead() {
		return
	}
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		if !gz {
			m.writeText(w, fams, readPools(pools))
			return
		}
		z := m.gzips.Get().(*gzip.Writer)
		z.Reset(w)
		if m.writeText(z, fams, readPools(pools)) == nil {
			z.Close()
		}
		z.Reset(nil)
		m.gzips.Put(z)
	})
}

// writeText writes the registry's families fams and the pool families of
// ps to w in name order, and returns the first error of w.
func (m *Metrics) writeText(w io.Writer, fams []*dto.MetricFamily, ps *poolScrape) error {
	t := newTextWriter(w)
	next := 0 // the next pool family to write
	for _, f := range fams {
		for ; next < len(poolFamilies) && poolFamilies[next].name < f.GetName(); next++ {
			ps.write(t, &poolFamilies[next])
		}
		if _, err := expfmt.MetricFamilyToText(t, f); err != nil && t.err == nil {
			t.err = err
		}
		if t.err != nil {
			return t.err
		}
	}
	for ; next < len(poolFamilies); next++ {
		ps.write(t, &poolFamilies[next])
	}
	t.flush()
	return t.err
}
