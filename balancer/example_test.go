package balancer_test

import (
	"fmt"

	"github.com/lbtrust/lb/balancer"
)

// backend is a minimal Target; a real one reads atomics.
type backend struct {
	name   string
	weight int
}

func (b backend) Address() string { return b.name }
func (b backend) Weight() int     { return b.weight }
func (b backend) InFlight() int64 { return 0 }

func Example() {
	policy, err := balancer.New("weighted_round_robin") // once per pool
	if err != nil {
		panic(err)
	}
	backends := []backend{{"a", 5}, {"b", 1}, {"c", 1}}
	targets := make([]balancer.Target, len(backends))
	for i, b := range backends {
		targets[i] = b
	}
	picker := policy.NewPicker(targets) // once per snapshot of eligible backends
	for range 7 {
		fmt.Print(backends[picker.Pick(balancer.NoKey)].name, " ") // per request
	}
	fmt.Println()
	// Output: a a b a c a a
}

func ExampleNew_unknown() {
	_, err := balancer.New("fastest")
	fmt.Println(err)
	// Output: balancer: unknown policy "fastest": valid names are round_robin, weighted_round_robin, least_conn, random, power_of_two, consistent_hash
}
