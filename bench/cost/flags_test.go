package main

import (
	"io"
	"slices"
	"strings"
	"testing"
)

func TestParseTargets(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{in: "lb,haproxy,nginx", want: []string{"lb", "haproxy", "nginx"}},
		{in: " nginx , lb ,", want: []string{"nginx", "lb"}},
		{in: "lb", want: []string{"lb"}},
		{in: "lb,envoy", err: `unknown target "envoy"`},
		{in: "lb,lb", err: "lb twice"},
		{in: " , ", err: "none given"},
	}
	for _, tt := range tests {
		got, err := parseTargets(tt.in)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
		case tt.err == "" && (err != nil || !slices.Equal(got, tt.want)):
			t.Errorf("%q: %v %v, want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args []string
		err  string
	}{
		{args: nil},
		{args: []string{"-rounds", "1", "-duration", "3s", "-targets", "lb,nginx", "-cpuprofile", "/tmp/p"}},
		{args: []string{"-cpu-target", "1", "-cpu-load", "1"}, err: "both 1"},
		{args: []string{"-cpuprofile", "/tmp/p", "-targets", "haproxy"}, err: "add lb to -targets"},
		{args: []string{"-rounds", "0"}, err: "-rounds 0"},
		{args: []string{"-rate", "0"}, err: "-rate 0"},
		{args: []string{"-duration", "500ms"}, err: "at least 1s"},
		{args: []string{"extra"}, err: `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		o, err := parseFlags(tt.args, io.Discard)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%q: error %v, want %q", tt.args, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("%q: %v", tt.args, err)
		}
		if tt.args == nil && (o.rounds != 3 || o.rate != 8000 || o.duration.String() != "10s" || o.cpuTarget != 0 || o.cpuLoad != 1 ||
			!slices.Equal(o.targets, []string{"lb", "haproxy", "nginx"})) {
			t.Errorf("defaults: %+v", o)
		}
	}
}
