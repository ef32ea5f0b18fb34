//go:build !race

package proxy

// raceEnabled reports whether the tests run under the race detector,
// whose sync.Pool drops items at random (so allocation counts mean
// nothing there).
const raceEnabled = false
