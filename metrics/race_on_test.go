//go:build race

package metrics

// raceEnabled is true under the race detector, whose sync.Pool drops
// what is put back at random, so allocation bounds are looser.
const raceEnabled = true
