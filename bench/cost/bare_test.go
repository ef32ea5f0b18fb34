package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/lbtrust/lb/bench/examples"
)

func TestParseBareConfig(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		listen   string
		backends []string
		err      string
	}{
		{name: "lines and comments", in: "# c\n\nlisten 127.0.0.1:1\nbackend 127.0.0.1:2\nbackend 127.0.0.1:3\n",
			listen: "127.0.0.1:1", backends: []string{"127.0.0.1:2", "127.0.0.1:3"}},
		{name: "no backend", in: "listen 127.0.0.1:1\n", err: "at least one backend"},
		{name: "no listen", in: "backend 127.0.0.1:2\n", err: "need a listen line"},
		{name: "unknown directive", in: "listen 127.0.0.1:1\nserver x\n", err: `line 2: unknown directive "server"`},
		{name: "missing address", in: "listen\n", err: "line 1: want"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseBareConfig(strings.NewReader(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || c.listen != tc.listen || !slices.Equal(c.backends, tc.backends) {
				t.Fatalf("got %+v, %v", c, err)
			}
		})
	}
}

// TestBareTemplateRenders: the shipped bare-cost.conf uses every address
// the tool fills in and parses once rendered.
func TestBareTemplateRenders(t *testing.T) {
	tmpl, err := examples.CostTemplate("bare-cost.conf")
	if err != nil {
		t.Fatal(err)
	}
	addrs := []string{"127.0.0.1:20001", "127.0.0.1:20002", "127.0.0.1:20003"}
	p, _ := peerNamed("bare")
	out, err := render(tmpl, placeholders("127.0.0.1:20000", "", addrs), required(p, len(addrs)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseBareConfig(strings.NewReader(out))
	if err != nil || c.listen != "127.0.0.1:20000" || !slices.Equal(c.backends, addrs) {
		t.Fatalf("rendered %q: %+v, %v", out, c, err)
	}
}
