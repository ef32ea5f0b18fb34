package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// reportFile is what -out DIR gets.
const reportFile = "cost.json"

// report is cost.json: the run's settings, the machine, each target with
// its configuration, every measurement and the summary.
type report struct {
	At          time.Time      `json:"at"`
	Rate        int            `json:"rate"`
	Duration    string         `json:"duration"`
	Warmup      string         `json:"warmup"`
	Rounds      int            `json:"rounds"`
	CPUTarget   int            `json:"cpu_target"`
	CPULoad     int            `json:"cpu_load"`
	CPUs        int            `json:"cpus"`
	Kernel      string         `json:"kernel"`
	GoVersion   string         `json:"go_version"`
	Backends    int            `json:"backends"`
	BackendArgs []string       `json:"backend_args"`
	Targets     []reportTarget `json:"targets"`
	Skipped     []skipped      `json:"skipped,omitempty"`
	Results     []result       `json:"results"`
	Summary     summary        `json:"summary"`
}

// reportTarget is one target as run: its program, version, how it was
// kept to one core, and its configuration as rendered for round 1.
type reportTarget struct {
	Name    string `json:"name"`
	Program string `json:"program"`
	Version string `json:"version"`
	OneCore string `json:"one_core"`
	Config  string `json:"config"`
}

// writeReport writes cost.json into o.out and returns its path.
func writeReport(o options, targets []ready, skips []skipped, results []result, sum summary, work string) (string, error) {
	rep := report{
		At: time.Now().UTC(), Rate: o.rate, Duration: o.duration.String(), Warmup: o.warmup.String(),
		Rounds: o.rounds, CPUTarget: o.cpuTarget, CPULoad: o.cpuLoad, CPUs: runtime.NumCPU(),
		Kernel: kernel(), GoVersion: runtime.Version(), Backends: backends, BackendArgs: backendArgs(),
		Skipped: skips, Results: results, Summary: sum,
	}
	for _, t := range targets {
		conf, _ := os.ReadFile(filepath.Join(work, t.peer.name+"-round1", t.peer.template))
		rep.Targets = append(rep.Targets, reportTarget{Name: t.peer.name, Program: t.program,
			Version: t.version, OneCore: t.peer.oneCore, Config: string(conf)})
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(o.out, reportFile)
	return path, os.WriteFile(path, append(b, '\n'), 0o644)
}

// kernel is the running kernel's release, from /proc.
func kernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}
