package balancer

import "sync/atomic"

// roundRobin hands out targets in turn. Its cursor lives in the Policy, not
// in a Picker, so a snapshot change (a backend going down or coming back)
// continues the rotation instead of restarting it at index 0, which would
// send a burst to the first backend after every change.
type roundRobin struct {
	cursor atomic.Uint64
	_      [cacheLinePad]byte
}

func (*roundRobin) Name() string { return RoundRobin }

// NewPicker is O(1); weights are ignored.
func (p *roundRobin) NewPicker(targets []Target) Picker {
	return &roundRobinPicker{cursor: &p.cursor, n: uint64(len(targets))}
}

// roundRobinPicker: Pick is one atomic add and a modulo, O(1). Over any n
// consecutive picks (even from many goroutines) every index is returned
// exactly once.
type roundRobinPicker struct {
	cursor *atomic.Uint64
	n      uint64
}

func (p *roundRobinPicker) Pick(uint64) int {
	return int((p.cursor.Add(1) - 1) % p.n)
}
