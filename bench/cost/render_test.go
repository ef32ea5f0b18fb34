package main

import (
	"strings"
	"testing"

	"github.com/lbtrust/lb/bench/examples"
)

func TestRender(t *testing.T) {
	subst := placeholders("127.0.0.1:20001", "127.0.0.1:20002", []string{"127.0.0.1:30001", "127.0.0.1:30002"})
	both := []string{placeholderListen, "127.0.0.1:9001", "127.0.0.1:9002"}
	tests := []struct {
		name     string
		tmpl     string
		required []string
		want     string
		err      string // a part of the error; "" for none
	}{
		{
			name:     "every role",
			tmpl:     "bind 127.0.0.1:8081\nadmin 127.0.0.1:9901\nserver b1 127.0.0.1:9001 check\nserver b2 127.0.0.1:9002;",
			required: both,
			want:     "bind 127.0.0.1:20001\nadmin 127.0.0.1:20002\nserver b1 127.0.0.1:30001 check\nserver b2 127.0.0.1:30002;",
		},
		{
			name:     "quoted, and twice",
			tmpl:     `address = "127.0.0.1:9001" # also 127.0.0.1:9001`,
			required: []string{"127.0.0.1:9001"},
			want:     `address = "127.0.0.1:30001" # also 127.0.0.1:30001`,
		},
		{
			name: "a port that only starts like a placeholder",
			tmpl: "server 127.0.0.1:90011",
			err:  "address 127.0.0.1:90011 is not one the tool fills in",
		},
		{
			name: "a backend the tool did not start",
			tmpl: "server b3 127.0.0.1:9003",
			err:  "127.0.0.1:9003 is not one",
		},
		{
			name:     "a backend the template leaves out",
			tmpl:     "bind 127.0.0.1:8081\nserver b1 127.0.0.1:9001",
			required: both,
			err:      "the template never uses 127.0.0.1:9002",
		},
		{
			name: "other hosts are left alone",
			tmpl: "resolver 10.0.0.1:53 and localhost:8081",
			want: "resolver 10.0.0.1:53 and localhost:8081",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := render(tt.tmpl, subst, tt.required)
			switch {
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want one containing %q", err, tt.err)
			case tt.err == "" && err != nil:
				t.Fatal(err)
			case got != tt.want:
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestShippedTemplatesRender: each shipped template uses the listener and
// all three backends, and no loopback address the tool does not fill in.
func TestShippedTemplatesRender(t *testing.T) {
	backends := []string{"127.0.0.1:30001", "127.0.0.1:30002", "127.0.0.1:30003"}
	for _, p := range peers() {
		t.Run(p.name, func(t *testing.T) {
			tmpl, err := examples.CostTemplate(p.template)
			if err != nil {
				t.Fatal(err)
			}
			out, err := render(tmpl, placeholders("127.0.0.1:20001", "127.0.0.1:20002", backends), required(p, 3))
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range append([]string{"127.0.0.1:20001"}, backends...) {
				if !strings.Contains(out, a) {
					t.Errorf("%s is not in the rendered configuration", a)
				}
			}
		})
	}
}
