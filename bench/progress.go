package main

import (
	"fmt"
	"io"
	"time"

	"github.com/lbtrust/lb/bench/load"
)

// progressEvery is how often the progress line is redrawn.
const progressEvery = 500 * time.Millisecond

// showProgress redraws one line on w (a terminal) with elapsed time, the
// current rate and the failures so far, until the returned function is
// called; that erases the line.
func showProgress(w io.Writer, lr *load.Run, total time.Duration) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		var lastN uint64
		last := time.Now()
		for {
			select {
			case <-stop:
				fmt.Fprint(w, "\r\033[K")
				return
			case now := <-t.C:
				n, failed := lr.Progress()
				rps := float64(n-lastN) / now.Sub(last).Seconds()
				lastN, last = n, now
				elapsed := min(time.Since(lr.Began()), total)
				fmt.Fprintf(w, "\r\033[K  %5.1fs / %s   %7.0f req/s   %d done   %d failed", elapsed.Seconds(), total, rps, n, failed)
			}
		}
	}()
	return func() {
		close(stop)
		<-done
	}
}
