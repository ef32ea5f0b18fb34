package etcd

import (
	"fmt"
	"testing"

	"go.uber.org/zap"

	"github.com/lbtrust/lb/discovery/etcdvalue"
)

// BenchmarkWatchUpdate1000: the source's share of one watch event in a
// pool of 1,000 backends: apply the changed key and build the complete,
// normalized set handed to the Sink.
func BenchmarkWatchUpdate1000(b *testing.B) {
	const n = 1000
	set := newKeySet(zap.NewNop())
	vals := make([][]byte, n)
	for i := range n {
		vals[i] = etcdvalue.Encode(fmt.Sprintf("10.0.%d.%d:8080", i/250, i%250+1), 1)
		set.put(fmt.Sprintf("/lb/pools/web/%04d", i), vals[i])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := i % n
		set.put(fmt.Sprintf("/lb/pools/web/%04d", k), vals[k])
		if got := set.targets(); len(got) != n {
			b.Fatalf("%d targets", len(got))
		}
		i++
	}
}
