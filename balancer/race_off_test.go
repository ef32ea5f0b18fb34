//go:build !race

package balancer_test

// raceEnabled is true under the race detector, which makes the long
// simulations ten times slower; they then run at a smaller size.
const raceEnabled = false
