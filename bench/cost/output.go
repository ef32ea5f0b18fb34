package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// outputKept is how many of a target's last output lines are kept, to
// show when it fails.
const outputKept = 20

// output takes a target's output lines: each goes to the log (when not
// nil) with a prefix, and the last few are kept. Safe for concurrent use.
type output struct {
	prefix string
	mu     sync.Mutex
	log    io.Writer
	last   []string
}

// line records one line.
func (o *output) line(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.log != nil {
		fmt.Fprintf(o.log, "%s%s\n", o.prefix, s)
	}
	o.last = append(o.last, s)
	if len(o.last) > outputKept {
		o.last = o.last[len(o.last)-outputKept:]
	}
}

// tail is the last lines, indented, for an error message ("" if none).
func (o *output) tail() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.last) == 0 {
		return ""
	}
	return "\n  " + strings.Join(o.last, "\n  ")
}

// lines are every kept line (the warnings a target printed).
func (o *output) lines() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.last...)
}
