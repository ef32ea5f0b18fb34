package main

import "time"

// stallTick is how often the stall meter wakes.
const stallTick = 10 * time.Millisecond

// stallMeter measures how late this process's goroutines get to run: one
// goroutine sleeps a tick at a time and keeps the largest overshoot. On
// the load CPU that bounds how long the backends may have left a probe
// unread, so a gap in the spread as long as the worst stall may be this
// tool's and not the target's.
type stallMeter struct {
	stop chan struct{}
	done chan time.Duration
}

// startStallMeter starts measuring.
func startStallMeter() *stallMeter {
	m := &stallMeter{stop: make(chan struct{}), done: make(chan time.Duration, 1)}
	go m.run()
	return m
}

func (m *stallMeter) run() {
	var worst time.Duration
	t := time.NewTimer(stallTick)
	defer t.Stop()
	for {
		due := time.Now().Add(stallTick)
		t.Reset(stallTick)
		select {
		case <-m.stop:
			m.done <- worst
			return
		case now := <-t.C:
			worst = max(worst, now.Sub(due))
		}
	}
}

// finish stops the meter and returns the worst stall it saw.
func (m *stallMeter) finish() time.Duration {
	close(m.stop)
	return <-m.done
}
