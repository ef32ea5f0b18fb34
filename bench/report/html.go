package report

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlTemplate renders report.html: one self-contained page (inline CSS
// and SVG, no script, nothing fetched from anywhere).
var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"add":   func(a, b float64) float64 { return a + b },
	"sub":   func(a, b float64) float64 { return a - b },
	"deref": func(v *float64) float64 { return *v },
	"opt":   func(v *float64, format string) string { return optF(v, format) },
}).Parse(htmlSource))

// WriteHTML renders the report as a self-contained HTML page.
func WriteHTML(w io.Writer, r Report) error {
	cfg, err := json.MarshalIndent(struct {
		Config  Config  `json:"config"`
		Machine Machine `json:"machine"`
	}{withoutLBConfig(r.Config), r.Machine}, "", "  ")
	if err != nil {
		return err
	}
	load := fmt.Sprintf("%d requests/s (open loop)", r.Config.Rate)
	if r.Config.Rate == 0 {
		load = fmt.Sprintf("closed loop with %d workers", r.Config.Workers)
	}
	return htmlTemplate.Execute(w, map[string]any{
		"R":          r,
		"Target":     targetName(r.Config),
		"Load":       load,
		"Kinds":      kinds(r.FailuresByKind),
		"Charts":     append(charts(r), chaosCharts(r)...),
		"ConfigJSON": string(cfg),
	})
}

func withoutLBConfig(c Config) Config {
	c.LBConfig = ""
	return c
}
