package main

import (
	"slices"
)

// summary is one target's figures over its runs: each the median of the
// runs' (the run itself when there is one).
type summary struct {
	Target          string  `json:"target"`
	Runs            int     `json:"runs"`
	ReadySeconds    float64 `json:"ready_s"`
	CPUPercent      float64 `json:"cpu_percent"`
	MicrosPerProbe  float64 `json:"us_per_probe"`
	Probes          float64 `json:"probes"`
	ProbesPerSecond float64 `json:"probes_per_second"`
	RSSMiB          float64 `json:"rss_mib"`
	HWMMiB          float64 `json:"hwm_mib"`
	Threads         float64 `json:"threads"`
	FDs             float64 `json:"fds"`
	Goroutines      float64 `json:"goroutines"` // -1: not known
	CV              float64 `json:"cv"`
	MaxMean         float64 `json:"max_over_mean"`
	MinMean         float64 `json:"min_over_mean"`
	StartPeak       float64 `json:"start_peak_over_nominal"`
	HasReload       bool    `json:"has_reload"`
	ReloadPeak      float64 `json:"reload_peak_over_nominal"`
	ReloadTrough    float64 `json:"reload_trough_over_nominal"`
}

// summarize takes the median of every figure of one target's runs.
func summarize(name string, runs []result) summary {
	s := summary{Target: name, Runs: len(runs)}
	if len(runs) == 0 {
		return s
	}
	med := func(f func(r result) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		return median(v)
	}
	const mib = 1 << 20
	s.ReadySeconds = med(func(r result) float64 { return r.ReadyAfter.Seconds() })
	s.CPUPercent = med(func(r result) float64 { return r.CPUPercent })
	s.MicrosPerProbe = med(func(r result) float64 { return r.MicrosPerProbe })
	s.Probes = med(func(r result) float64 { return float64(r.Probes) })
	s.ProbesPerSecond = med(func(r result) float64 { return r.ProbesPerSecond })
	s.RSSMiB = med(func(r result) float64 { return float64(r.RSS) / mib })
	s.HWMMiB = med(func(r result) float64 { return float64(r.HWM) / mib })
	s.Threads = med(func(r result) float64 { return float64(r.Threads) })
	s.FDs = med(func(r result) float64 { return float64(r.FDs) })
	s.Goroutines = med(func(r result) float64 { return float64(r.Goroutines) })
	s.CV = med(func(r result) float64 { return r.Spread.CV })
	s.MaxMean = med(func(r result) float64 { return r.Spread.MaxMean })
	s.MinMean = med(func(r result) float64 { return r.Spread.MinMean })
	s.StartPeak = med(func(r result) float64 { return r.Start.PeakNominal })
	if runs[0].Reload != nil {
		s.HasReload = true
		s.ReloadPeak = med(func(r result) float64 { return r.Reload.PeakNominal })
		s.ReloadTrough = med(func(r result) float64 { return r.Reload.TroughNominal })
	}
	return s
}

// median is the middle value (the mean of the two middle ones for an
// even count), 0 for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	m := len(v) / 2
	if len(v)%2 == 1 {
		return v[m]
	}
	return (v[m-1] + v[m]) / 2
}
