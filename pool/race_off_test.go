//go:build !race

package pool

// raceEnabled is true under the race detector, which makes building a
// 10,000-backend pool (10,000 transitions, each O(n)) take minutes; the
// scale tests then stop at 1,000 (the plain run pins 10,000).
const raceEnabled = false
