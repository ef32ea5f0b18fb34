package report

import (
	"fmt"
	"math"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	chartW, chartH         = 960.0, 200.0
	padL, padR, padT, padB = 64.0, 12.0, 12.0, 24.0
)

// chart is one timeline chart ready for the HTML template: every
// coordinate is computed here, the template only places them.
type chart struct {
	Title   string
	W, H    float64
	Bars    []bar
	Lines   []line
	YTicks  []tick
	XTicks  []tick
	Markers []marker
	Legend  []legendItem
	PlotX   float64 // left edge of the plot area
	PlotY   float64 // top edge
	PlotW   float64
	PlotH   float64
}

type bar struct {
	X, Y, W, H float64
	Color      string
	Title      string
}

type line struct {
	D     string // SVG path data
	Color string
	Name  string
}

type tick struct {
	Pos   float64 // x for XTicks, y for YTicks
	Label string
}

type marker struct {
	X     float64
	Color string
	Dash  string
	Title string
}

type legendItem struct{ Color, Name string }

// backendColor is the colour of backend i's series.
func backendColor(i int) string {
	colors := [...]string{"#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"}
	return colors[i%len(colors)]
}

const (
	colorOK      = "#2ca02c"
	colorFail    = "#d62728"
	colorLatency = "#333333"
)

// newChart sets up the frame of a chart over n buckets.
func newChart(title string, n int, bucketS float64) chart {
	c := chart{Title: title, W: chartW, H: chartH, PlotX: padL, PlotY: padT, PlotW: chartW - padL - padR, PlotH: chartH - padT - padB}
	total := float64(n) * bucketS
	step := niceStep(total / 10)
	for t := 0.0; t <= total+1e-9; t += step {
		c.XTicks = append(c.XTicks, tick{Pos: c.x(t, total), Label: trimFloat(t) + "s"})
	}
	return c
}

// x maps seconds to the plot's x coordinate.
func (c chart) x(t, total float64) float64 {
	if total <= 0 {
		return c.PlotX
	}
	return c.PlotX + t/total*c.PlotW
}

// addMarkers draws every event as a vertical line.
func (c *chart) addMarkers(events []EventFigure, total float64) {
	for _, e := range events {
		m := marker{X: c.x(e.TS, total), Title: fmt.Sprintf("%+.3fs %s", e.TS, e.Text)}
		switch e.Kind {
		case "fault":
			m.Color, m.Dash = colorFail, "6 3"
		case "restore":
			m.Color, m.Dash = colorOK, "6 3"
		case "exit":
			m.Color, m.Dash = "#ff7f0e", "2 2"
		default:
			m.Color, m.Dash = "#1f77b4", "1 3"
		}
		if e.TS >= 0 && e.TS <= total {
			c.Markers = append(c.Markers, m)
		}
	}
}

// linearTicks sets y ticks for 0..top and returns the y mapping.
func (c *chart) linearTicks(top float64) func(float64) float64 {
	if top <= 0 {
		top = 1
	}
	step := niceStep(top / 4)
	top = math.Ceil(top/step) * step
	y := func(v float64) float64 { return c.PlotY + c.PlotH - v/top*c.PlotH }
	for v := 0.0; v <= top+1e-9; v += step {
		c.YTicks = append(c.YTicks, tick{Pos: y(v), Label: trimFloat(v)})
	}
	return y
}

// logTicks sets decade y ticks covering lo..hi (> 0) and returns the y
// mapping (values at or below lo sit on the axis).
func (c *chart) logTicks(lo, hi float64) func(float64) float64 {
	a := math.Floor(math.Log10(math.Max(lo, 1e-3)))
	b := math.Ceil(math.Log10(math.Max(hi, lo*10)))
	if b <= a {
		b = a + 1
	}
	y := func(v float64) float64 {
		l := math.Log10(math.Max(v, math.Pow(10, a)))
		return c.PlotY + c.PlotH - (l-a)/(b-a)*c.PlotH
	}
	for e := a; e <= b; e++ {
		c.YTicks = append(c.YTicks, tick{Pos: y(math.Pow(10, e)), Label: trimFloat(math.Pow(10, e))})
	}
	return y
}

// path joins points into SVG path data.
func path(xs, ys []float64) string {
	var b strings.Builder
	for i := range xs {
		if i == 0 {
			fmt.Fprintf(&b, "M%.1f %.1f", xs[i], ys[i])
		} else {
			fmt.Fprintf(&b, "L%.1f %.1f", xs[i], ys[i])
		}
	}
	return b.String()
}

// niceStep rounds a raw step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// trimFloat prints v without trailing zeros.
func trimFloat(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "" || s == "-0" {
		return "0"
	}
	return s
}
