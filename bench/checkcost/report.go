package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// machine describes where the runs ran.
type machine struct {
	CPUs   int    `json:"cpus"`
	Go     string `json:"go"`
	Kernel string `json:"kernel"`
	NoFile uint64 `json:"rlimit_nofile"`
}

// report is checkcost.json.
type report struct {
	Time      time.Time `json:"time"`
	Settings  settings  `json:"settings"`
	Machine   machine   `json:"machine"`
	Runs      []result  `json:"runs"`
	Summaries []summary `json:"summaries"`
	Skipped   []string  `json:"skipped,omitempty"`
}

// thisMachine describes the machine; cpus is the count before this
// process was bound to one.
func thisMachine(cpus int, nofile uint64) machine {
	m := machine{CPUs: cpus, Go: runtime.Version(), NoFile: nofile}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	return m
}

// writeReport writes r as dir/checkcost.json.
func writeReport(dir string, r report) (string, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "checkcost.json")
	return path, os.WriteFile(path, append(b, '\n'), 0o644)
}
