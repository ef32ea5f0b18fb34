package report

import "fmt"

// charts builds the report's timeline charts.
func charts(r Report) []chart {
	t := r.Timeline
	n := len(t.OK)
	if n == 0 {
		return nil
	}
	bs := float64(t.BucketMS) / 1000
	total := float64(n) * bs
	var out []chart

	// Successes and failures per bucket, stacked bars.
	c := newChart(fmt.Sprintf("requests per %d ms: successes and failures", t.BucketMS), n, bs)
	top := 0
	for k := range t.OK {
		top = max(top, t.OK[k]+t.Failed[k])
	}
	y := c.linearTicks(float64(top))
	w := c.PlotW / float64(n)
	for k := range t.OK {
		x := c.x(float64(k)*bs, total)
		at := fmt.Sprintf("%.1fs: ", float64(k)*bs)
		if t.OK[k] > 0 {
			c.Bars = append(c.Bars, bar{X: x, Y: y(float64(t.OK[k])), W: w, H: y(0) - y(float64(t.OK[k])), Color: colorOK, Title: at + fmt.Sprint(t.OK[k], " ok")})
		}
		if t.Failed[k] > 0 {
			y0, y1 := y(float64(t.OK[k])), y(float64(t.OK[k]+t.Failed[k]))
			c.Bars = append(c.Bars, bar{X: x, Y: y1, W: w, H: y0 - y1, Color: colorFail, Title: at + fmt.Sprint(t.Failed[k], " failed")})
		}
	}
	c.Legend = []legendItem{{colorOK, "2xx"}, {colorFail, "failed"}}
	c.addMarkers(r.Events, total)
	out = append(out, c)

	// p99 latency per bucket, log scale.
	c = newChart(fmt.Sprintf("p99 latency per %d ms (ms, log scale)", t.BucketMS), n, bs)
	lo, hi := 0.0, 0.0
	for _, v := range t.P99MS {
		if v > 0 && (lo == 0 || v < lo) {
			lo = v
		}
		hi = max(hi, v)
	}
	y = c.logTicks(max(lo, 0.01), max(hi, 1))
	var xs, ys []float64
	for k, v := range t.P99MS {
		if t.OK[k]+t.Failed[k] == 0 {
			continue
		}
		xs = append(xs, c.x((float64(k)+0.5)*bs, total))
		ys = append(ys, y(v))
	}
	c.Lines = append(c.Lines, line{D: path(xs, ys), Color: colorLatency, Name: "p99"})
	c.Legend = []legendItem{{colorLatency, "p99 latency"}}
	c.addMarkers(r.Events, total)
	out = append(out, c)

	// Answers per backend.
	if len(t.PerBackend) > 0 {
		c = newChart(fmt.Sprintf("answers per backend per %d ms", t.BucketMS), n, bs)
		top = 0
		for _, s := range t.PerBackend {
			for _, v := range s {
				top = max(top, v)
			}
		}
		y = c.linearTicks(float64(top))
		for i, s := range t.PerBackend {
			xs, ys = xs[:0], ys[:0]
			for k, v := range s {
				xs = append(xs, c.x((float64(k)+0.5)*bs, total))
				ys = append(ys, y(float64(v)))
			}
			name := fmt.Sprintf("backend %d", i+1)
			if i < len(r.Backends) {
				name = r.Backends[i].Name
			}
			col := backendColor(i)
			c.Lines = append(c.Lines, line{D: path(xs, ys), Color: col, Name: name})
			c.Legend = append(c.Legend, legendItem{col, name})
		}
		c.addMarkers(r.Events, total)
		out = append(out, c)
	}
	return out
}
