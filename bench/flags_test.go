package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbtrust/lb/bench/record"
	"github.com/lbtrust/lb/bench/report"
)

func TestFlagDefaults(t *testing.T) {
	o, err := parseFlags([]string{"-duration", "30s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg
	if c.Scenario != "kill" || c.Target != "lb" || c.FaultAt.D() != 10*time.Second || c.RestoreAt.D() != 20*time.Second ||
		c.Backends != 3 || c.Method != "GET" || c.BodySize != 0 || c.HCInterval.D() != time.Second || c.UnhealthyThreshold != 2 {
		t.Errorf("defaults: %+v", c)
	}
	o, err = parseFlags([]string{"-scenario", "throughput", "-method", "post"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.cfg.Rate != 0 || o.cfg.Workers != 64 || o.cfg.Method != "POST" || o.cfg.BodySize != 1024 {
		t.Errorf("throughput: %+v", o.cfg)
	}
	o, err = parseFlags([]string{"-target-cmd", "haproxy -f x.cfg", "-target-addr", "127.0.0.1:8081", "-backend-ports", "9001,9002,9003"}, io.Discard)
	if err != nil || o.cfg.Target != "cmd" || len(o.cfg.BackendPorts) != 3 {
		t.Errorf("target-cmd: %+v %v", o, err)
	}
}

func TestFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-scenario", "explode"},
		{"-method", "PUT"},
		{"-rate", "0"},
		{"-fault-at", "5s", "-restore-at", "4s"},
		{"-restore-at", "30s", "-duration", "20s"},
		{"-fault-backend", "4"},
		{"-target-cmd", "haproxy"},
		{"-target-cmd", "haproxy", "-target-addr", "127.0.0.1:1"},
		{"-backend-ports", "9001,9002"},
		{"-backend-ports", "9001,x,9003"},
		{"-hc-timeout", "2s"},
		{"-config", "x.hcl", "-target-cmd", "y"},
		{"stray"},
	} {
		var stderr bytes.Buffer
		if code := run(context.Background(), args, io.Discard, &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %s)", args, code, stderr.String())
		}
	}
}

func TestCompareCommand(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i, target := range []string{"lb", "cmd"} {
		in := report.Input{Config: report.Config{Scenario: "kill", Rate: 100, Duration: report.Duration(time.Second), Target: target, TargetCmd: "haproxy -db -f h.cfg"},
			Records: []record.Record{{Start: 0, Latency: time.Millisecond, Code: 200}}}
		d := filepath.Join(dir, []string{"a", "b"}[i])
		if err := report.WriteDir(d, report.Build(in), in.Records); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, filepath.Join(d, report.JSONFile))
	}
	var out, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-compare", strings.Join(paths, ",")}, &out, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(out.String(), "haproxy -db -f h.cfg") || !strings.Contains(out.String(), "lb (generated config)") {
		t.Errorf("comparison:\n%s", out.String())
	}
	if code := run(context.Background(), []string{"-compare", paths[0]}, io.Discard, io.Discard); code != 2 {
		t.Errorf("-compare with one file: exit %d", code)
	}
}
